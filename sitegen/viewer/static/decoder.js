// A small pool of decode workers. The OpenJPH WASM is fetched and compiled once (boot.js starts
// it and hands it over), and the compiled module is handed to every worker. The pool starts with one worker and
// grows after the first image, so extra workers do not compete with the first frame.

import { SYNTAXES, syntaxName } from "./manifest.js";

export class DecoderPool {
  // `early`: what boot.js started, { wasm, workerUrl, firstWorker }
  constructor({ wasm, workerUrl, firstWorker }) {
    this.wasm = wasm;
    this.workerUrl = workerUrl;
    this.workers = [];
    this.pending = new Map();
    this.nextId = 1;
    this.wasmError = null;
    this.#add(firstWorker);
  }

  #add(worker) {
    worker.onmessage = (event) => this.#settle(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#failWorker(worker, event.message || "decoder worker failed to start");
    };
    this.workers.push({ worker, busy: 0 });
    this.wasm.then(({ module, error }) => {
      if (error) this.wasmError = `the HTJ2K decoder could not start (${error.message})`;
      worker.postMessage({ type: "init", module: module || null });
    });
  }

  // Up to `size` workers (default: cores - 1, at most 4).
  grow(size = Math.min(4, Math.max(1, (navigator.hardwareConcurrency || 2) - 1))) {
    while (this.workers.length < size) this.#add(new Worker(this.workerUrl));
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
