// Packed frames ([build] pack = N): a series' frames in a few files, each frame found by its
// pack, offset and size in the manifest. A pack is fetched once for all the frames that need
// it at the same time; the last few stay in memory for the frames still to come.

// The bytes at `url`; a failed request says which file (`what`) and why.
export async function fetchBytes(url, what) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(response.status === 404 ? `the ${what} is missing (HTTP 404)` : `HTTP ${response.status}`);
  }
  return response.arrayBuffer();
}

const KEEP = 3; // packs held after they arrive: the one being read and its neighbours

export class PackStore {
  constructor(keep = KEEP) {
    this.keep = keep;
    this.packs = new Map(); // pack url -> Promise<ArrayBuffer>, most recently used last
    this.stats = { fetched: 0, bytes: 0 };
  }

  // The bytes of one frame ({pack, offset, bytes}).
  async frame(frame) {
    const buffer = await this.#pack(frame.pack);
    if (frame.offset + frame.bytes > buffer.byteLength) {
      throw new Error("the pack file is shorter than its manifest says");
    }
    return buffer.slice(frame.offset, frame.offset + frame.bytes);
  }

  #pack(url) {
    let pending = this.packs.get(url);
    if (pending) {
      this.packs.delete(url); // most recently used: to the end
    } else {
      pending = this.#fetch(url);
      pending.catch(() => this.packs.delete(url)); // a failed fetch is tried again later
    }
    this.packs.set(url, pending);
    while (this.packs.size > this.keep) this.packs.delete(this.packs.keys().next().value);
    return pending;
  }

  async #fetch(url) {
    const buffer = await fetchBytes(url, "pack file");
    this.stats.fetched++;
    this.stats.bytes += buffer.byteLength;
    return buffer;
  }
}
