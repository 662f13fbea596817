// The first script to run, with no imports so it runs as soon as it arrives: it starts the
// downloads the first image waits for (the case manifest, the WASM decoder, one decode worker
// with its OpenJPH glue) while the rest of the viewer's modules are still loading, then loads
// the viewer. Without a bundler this saves a round trip on the critical path.

const slug = new URLSearchParams(location.search).get("case");
export const SLUG = slug && /^[a-z0-9-]+$/.test(slug) ? slug : null;

// Settled promises only ({response} | {error}): nothing here may become an unhandled rejection.
export const manifestFetch = SLUG
  ? fetch(new URL(`../data/cases/${SLUG}.json`, import.meta.url)).then(
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

export const wasm = compileWasm().then((module) => ({ module }), (error) => ({ error }));

export const WORKER_URL = new URL("decode-worker.js", import.meta.url);
export const firstWorker = new Worker(WORKER_URL);

import("./main.js");
