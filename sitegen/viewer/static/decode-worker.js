// Frame decoding off the main thread. A classic worker (not a module) because OpenJPH's
// Emscripten glue is a classic script loaded with importScripts. The main thread compiles the
// WASM once and sends the WebAssembly.Module, so N workers cost one download and one compile.
/* global Module */
"use strict";

// Load the glue now, in parallel with the WASM download on the main thread (not after it).
let glue = null;
try {
  importScripts("openjphjs.js");
} catch (err) {
  glue = err;
}

let resolveModule;
const wasmModule = new Promise((resolve) => { resolveModule = resolve; });
let codec = null;

function openjph() {
  if (!codec) {
    codec = wasmModule.then((compiled) => {
      if (glue) throw new Error(`openjphjs.js could not be loaded (${glue.message})`);
      const options = {};
      if (compiled) {
        options.instantiateWasm = (imports, receive) => {
          WebAssembly.instantiate(compiled, imports).then((instance) => receive(instance, compiled));
          return {};
        };
      }
      return Module(options);
    });
  }
  return codec;
}

// Stored values only use bitsStored bits: sign-extend or mask the rest (idempotent).
function fixBits(pixels, info) {
  const container = pixels.BYTES_PER_ELEMENT * 8;
  const bits = info.bitsStored;
  if (!bits || bits >= container || info.samples > 1) return pixels;
  if (info.signed) {
    const shift = 32 - bits;
    for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i] << shift) >> shift;
  } else {
    const mask = (1 << bits) - 1;
    for (let i = 0; i < pixels.length; i++) pixels[i] &= mask;
  }
  return pixels;
}

function typed(buffer, bitsAllocated, signed, length) {
  if (bitsAllocated <= 8) return signed ? new Int8Array(buffer, 0, length) : new Uint8Array(buffer, 0, length);
  if (bitsAllocated <= 16) return signed ? new Int16Array(buffer, 0, length) : new Uint16Array(buffer, 0, length);
  return signed ? new Int32Array(buffer, 0, length) : new Uint32Array(buffer, 0, length);
}

function decodeRaw(bytes, info) {
  const length = info.rows * info.columns * info.samples;
  const size = info.bitsAllocated <= 8 ? 1 : info.bitsAllocated <= 16 ? 2 : 4;
  if (bytes.byteLength < length * size) {
    throw new Error(`raw frame too short: ${bytes.byteLength} bytes for ${info.columns}x${info.rows}`);
  }
  // copy into a fresh, aligned buffer that we own and can transfer
  const buffer = bytes.slice(0, length * size);
  return { pixels: typed(buffer, info.bitsAllocated, info.signed, length), samples: info.samples };
}

async function decodeHtj2k(bytes, info) {
  const m = await openjph();
  const decoder = new m.HTJ2KDecoder();
  try {
    const input = new Uint8Array(bytes);
    decoder.getEncodedBuffer(input.length).set(input);
    decoder.decode();
    const frame = decoder.getFrameInfo();
    const decoded = decoder.getDecodedBuffer().slice(); // a copy out of the WASM heap
    if (frame.width !== info.columns || frame.height !== info.rows) {
      throw new Error(`decoded ${frame.width}x${frame.height}, expected ${info.columns}x${info.rows}`);
    }
    const samples = frame.componentCount;
    const length = frame.width * frame.height * samples;
    const bits = frame.bitsPerSample > 8 ? 16 : 8;
    return { pixels: typed(decoded.buffer, bits, info.signed || frame.isSigned, length), samples };
  } finally {
    decoder.delete();
  }
}

async function decodeJpeg(bytes, info) {
  const blob = new Blob([bytes], { type: "image/jpeg" });
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const { width, height } = bitmap; // read before close(), which zeroes them
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  if (info.samples === 1) {
    const grey = new Uint8Array(rgba.length / 4);
    for (let i = 0; i < grey.length; i++) grey[i] = rgba[i * 4];
    return { pixels: grey, samples: 1 };
  }
  return { pixels: new Uint8Array(rgba.buffer), samples: 4 }; // RGBA straight to the canvas
}

const DECODERS = { raw: decodeRaw, htj2k: decodeHtj2k, jpeg: decodeJpeg };

self.onmessage = async (event) => {
  const message = event.data;
  if (message.type === "init") {
    resolveModule(message.module || null);
    openjph().catch(() => {}); // instantiate now, not when the first frame arrives
    return;
  }
  const { id, kind, bytes, info } = message;
  try {
    const started = performance.now();
    const decode = DECODERS[kind];
    if (!decode) throw new Error(`no decoder for ${kind}`);
    const result = await decode(bytes, info);
    fixBits(result.pixels, { ...info, samples: result.samples });
    const ms = performance.now() - started;
    self.postMessage({ id, ok: true, pixels: result.pixels, samples: result.samples, ms },
      [result.pixels.buffer]);
  } catch (err) {
    self.postMessage({ id, ok: false, error: String((err && err.message) || err) });
  }
};
