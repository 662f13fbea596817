// The first script to run, with no imports so it runs as soon as it arrives: it starts the
// downloads the first image waits for (the case manifest, the WASM decoder, one decode worker
// with its OpenJPH glue) while the rest of the viewer's modules are still loading, then loads
// the viewer, handing it what it started. Without a bundler this saves a round trip on the
// critical path. Nothing imports this module: data flows one way, from here to main.js.

const given = new URLSearchParams(location.search).get("case");
const slug = given && /^[a-z0-9-]+$/.test(given) ? given : null;

// Settled promises only ({response} | {error}): nothing here may become an unhandled rejection.
const manifestFetch = slug
  ? fetch(new URL(`../data/cases/${slug}.json`, import.meta.url)).then(
      (response) => ({ response }),
      (error) => ({ error }),
    )
  : null;

const WASM_URL = new URL("openjphjs.wasm", import.meta.url);

async function compileWasm() {
  try {
    return await WebAssembly.compileStreaming(fetch(WASM_URL));
  } catch {
    // a host that serves .wasm with another type defeats compileStreaming: fetch, then compile
    const response = await fetch(WASM_URL);
    if (!response.ok) throw new Error(`openjphjs.wasm: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
}

const wasm = compileWasm().then((module) => ({ module }), (error) => ({ error }));

const workerUrl = new URL("decode-worker.js", import.meta.url);
const firstWorker = new Worker(workerUrl);

import("./main.js").then((main) => main.start({ slug, manifestFetch, wasm, workerUrl, firstWorker }));
