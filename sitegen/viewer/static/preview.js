// The preview tier (written by the build's preview.py): a small lossy copy of every slice of
// a large grey series, 16-bit so windowing still works, in chunk files of about 30 slices.
// Fetched right after the shown slice's full frame (beside it, a chunk would only delay it),
// the chunk of the shown slice first, it makes the whole stack scrollable at once; the loader's full frames replace each slice's preview as they arrive.
// Only the previews of the last KEEP series shown are held (a 300-slice CT's: 39 MB).

import { fetchBytes } from "./packs.js";

const HTJ2K = "1.2.840.10008.1.2.4.203";
const KEEP = 2;

export class PreviewTier {
  constructor(decoder, onFrame = () => {}) {
    this.decoder = decoder;
    this.onFrame = onFrame; // (series, sliceIndex) once that slice's preview is decoded
    this.tiers = new Map(); // series index -> { images, state per chunk, left }, last shown last
    this.concurrency = 4;
    this.active = 0;
    this.stats = { fetched: 0, bytes: 0 };
  }

  #tier(series) {
    let tier = this.tiers.get(series.index);
    if (tier) {
      this.tiers.delete(series.index); // most recently shown: to the end
    } else {
      const chunks = series.preview.chunks;
      tier = { images: new Array(series.frames.length).fill(null), state: chunks.map(() => "idle"), left: chunks.length };
    }
    this.tiers.set(series.index, tier);
    while (this.tiers.size > KEEP) this.tiers.delete(this.tiers.keys().next().value);
    return tier;
  }

  // The decoded preview of one slice ({pixels, samples, rows, columns, preview}), or null.
  image(series, index) {
    return (series.preview && this.tiers.get(series.index)?.images[index]) || null;
  }

  count(series) {
    const tier = series.preview && this.tiers.get(series.index);
    return tier ? tier.images.reduce((n, image) => n + (image ? 1 : 0), 0) : 0;
  }

  // Nothing more will come for this series: it has no preview, or every chunk has settled.
  settled(series) {
    if (!series.preview) return true;
    const tier = this.tiers.get(series.index);
    return Boolean(tier) && tier.left === 0;
  }

  // Fetch the series' chunks, nearest the shown slice's first; `done` after each one.
  pump(series, focus, done) {
    if (!series.preview) return;
    const tier = this.#tier(series);
    const at = series.preview.frames[focus]?.[0] ?? 0;
    const order = tier.state.map((_, k) => k).sort((a, b) => Math.abs(a - at) - Math.abs(b - at) || b - a);
    for (const k of order) {
      if (this.active >= this.concurrency) return;
      if (tier.state[k] === "idle") this.#load(series, tier, k, done);
    }
  }

  async #load(series, tier, k, done) {
    const preview = series.preview;
    tier.state[k] = "loading";
    this.active++;
    const info = {
      rows: preview.rows, columns: preview.columns, samplesPerPixel: 1,
      bitsAllocated: 16, bitsStored: 16, signed: !!series.signed,
    };
    try {
      const bytes = await fetchBytes(preview.chunks[k], "preview file");
      this.stats.fetched++;
      this.stats.bytes += bytes.byteLength;
      const decoded = [];
      preview.frames.forEach(([chunk, offset, size], index) => {
        if (chunk !== k || offset + size > bytes.byteLength) return;
        decoded.push(this.decoder.decode(bytes.slice(offset, offset + size), HTJ2K, info).then((r) => {
          tier.images[index] = { pixels: r.pixels, samples: 1, rows: preview.rows, columns: preview.columns, preview: true };
          this.onFrame(series, index);
        }));
      });
      await Promise.allSettled(decoded); // a preview that fails is only a preview: its full frame still comes
      tier.state[k] = "ready";
    } catch {
      tier.state[k] = "error";
    } finally {
      this.active--;
      tier.left--;
      done();
    }
  }
}
