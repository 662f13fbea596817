// A small pool of decode workers. The OpenJPH WASM is fetched and compiled once here, at boot
// (in parallel with the manifest), and the compiled module is handed to every worker.

import { SYNTAXES, syntaxName } from "./manifest.js";

const WORKER_URL = new URL("decode-worker.js", import.meta.url);
const WASM_URL = new URL("openjphjs.wasm", import.meta.url);

async function compileWasm() {
  try {
    return await WebAssembly.compileStreaming(fetch(WASM_URL));
  } catch {
    // a host that serves .wasm with the wrong type defeats compileStreaming: fetch, then compile
    const response = await fetch(WASM_URL);
    if (!response.ok) throw new Error(`openjphjs.wasm: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
}

export class DecoderPool {
  constructor(size = Math.min(4, Math.max(1, (navigator.hardwareConcurrency || 2) - 1))) {
    this.workers = [];
    this.pending = new Map();
    this.nextId = 1;
    this.wasmError = null;
    for (let n = 0; n < size; n++) {
      const worker = new Worker(WORKER_URL);
      worker.onmessage = (event) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#failWorker(worker, event.message || "decoder worker failed to start");
      };
      this.workers.push({ worker, busy: 0 });
    }
    this.ready = compileWasm().then(
      (module) => this.workers.forEach(({ worker }) => worker.postMessage({ type: "init", module })),
      (err) => {
        this.wasmError = `the HTJ2K decoder could not start (${err.message})`;
        this.workers.forEach(({ worker }) => worker.postMessage({ type: "init", module: null }));
      },
    );
  }

  // Decode one frame; resolves to {pixels, samples, ms}. `bytes` (an ArrayBuffer) is transferred.
  decode(bytes, transferSyntax, series) {
    const kind = SYNTAXES[transferSyntax];
    if (!kind) {
      return Promise.reject(new Error(
        `${syntaxName(transferSyntax)} frames cannot be shown in this viewer ` +
        "(it decodes HTJ2K, JPEG baseline and uncompressed frames; rebuild with frames = \"htj2k\")"));
    }
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    const info = {
      rows: series.rows, columns: series.columns, samples: series.samplesPerPixel || 1,
      bitsAllocated: series.bitsAllocated, bitsStored: series.bitsStored, signed: !!series.signed,
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot, kind });
      slot.worker.postMessage({ type: "decode", id, kind, bytes, info }, [bytes]);
    });
  }

  #settle(message) {
    const job = this.pending.get(message.id);
    if (!job) return;
    this.pending.delete(message.id);
    job.slot.busy--;
    if (message.ok) job.resolve(message);
    else job.reject(new Error(job.kind === "htj2k" && this.wasmError ? this.wasmError : message.error));
  }

  #failWorker(worker, why) {
    for (const [id, job] of this.pending) {
      if (job.slot.worker !== worker) continue;
      this.pending.delete(id);
      job.slot.busy--;
      job.reject(new Error(why));
    }
  }
}
