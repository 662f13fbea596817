// Case page: the case's zip made in the browser from its published Part 10 files
// ([build] zips = "browser"), so the site holds their bytes once. The zip is "stored" (the
// frames are compressed already): local headers, the files, a central directory. Written
// straight to disk where the browser can (showSaveFilePicker: no size limit), else
// assembled in memory and saved as one download. A file, an offset or a count past what
// the classic fields hold (4 GB, 65,535 files) gets zip64 records (APPNOTE 4.5.3), so a case
// has no size limit; a test lowers those limits (window.sitegenZipLimits) to check them.
"use strict";
(function () {
  const button = document.querySelector("button[data-zip]");
  if (!button) return;
  button.hidden = false;

  const CRC_TABLE = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    CRC_TABLE[n] = c >>> 0;
  }
  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  // 1980-01-01 00:00, as sitegen's own zips: the same files give the same zip
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  const LIMITS = Object.assign({ bytes: 0xfffffffe, files: 0xfffe }, window.sitegenZipLimits);
  const FULL32 = 0xffffffff;
  const FULL16 = 0xffff;

  // the zip64 extra field: the 8-byte values whose 4-byte fields say 0xffffffff, in order
  function zip64Extra(values) {
    const view = new DataView(new ArrayBuffer(4 + 8 * values.length));
    view.setUint16(0, 0x0001, true);
    view.setUint16(2, 8 * values.length, true);
    values.forEach(function (v, i) { view.setBigUint64(4 + 8 * i, BigInt(v), true); });
    return new Uint8Array(view.buffer);
  }

  function header(signature, size) {
    const view = new DataView(new ArrayBuffer(size));
    view.setUint32(0, signature, true);
    return view;
  }

  function localHeader(name, crc, size) {
    const big = size > LIMITS.bytes;
    const extra = big ? zip64Extra([size, size]) : new Uint8Array(0);
    const view = header(0x04034b50, 30 + name.length + extra.length);
    view.setUint16(4, big ? 45 : 20, true); // version needed
    view.setUint16(6, 0x0800, true); // UTF-8 names
    view.setUint16(8, 0, true); // stored
    view.setUint16(10, DOS_TIME, true);
    view.setUint16(12, DOS_DATE, true);
    view.setUint32(14, crc, true);
    view.setUint32(18, big ? FULL32 : size, true);
    view.setUint32(22, big ? FULL32 : size, true);
    view.setUint16(26, name.length, true);
    view.setUint16(28, extra.length, true);
    new Uint8Array(view.buffer).set(name, 30);
    new Uint8Array(view.buffer).set(extra, 30 + name.length);
    return new Uint8Array(view.buffer);
  }

  function centralEntry(entry) {
    const { name, crc, size, offset } = entry;
    const bigSize = size > LIMITS.bytes;
    const bigOffset = offset > LIMITS.bytes;
    const wide = bigSize ? [size, size] : [];
    if (bigOffset) wide.push(offset);
    const extra = wide.length ? zip64Extra(wide) : new Uint8Array(0);
    const view = header(0x02014b50, 46 + name.length + extra.length);
    view.setUint16(4, wide.length ? 45 : 20, true); // made by
    view.setUint16(6, wide.length ? 45 : 20, true); // needed
    view.setUint16(8, 0x0800, true);
    view.setUint16(10, 0, true);
    view.setUint16(12, DOS_TIME, true);
    view.setUint16(14, DOS_DATE, true);
    view.setUint32(16, crc, true);
    view.setUint32(20, bigSize ? FULL32 : size, true);
    view.setUint32(24, bigSize ? FULL32 : size, true);
    view.setUint16(28, name.length, true);
    view.setUint16(30, extra.length, true);
    view.setUint32(42, bigOffset ? FULL32 : offset, true);
    new Uint8Array(view.buffer).set(name, 46);
    new Uint8Array(view.buffer).set(extra, 46 + name.length);
    return new Uint8Array(view.buffer);
  }

  // the end of the zip: with zip64's end record and its locator before the classic one when
  // the count, the central directory's size or its offset does not fit
  function endRecords(count, size, offset) {
    const wide = count > LIMITS.files || size > LIMITS.bytes || offset > LIMITS.bytes;
    const parts = [];
    if (wide) {
      const end64 = header(0x06064b50, 56);
      end64.setBigUint64(4, 44n, true); // the size of the rest of this record
      end64.setUint16(12, 45, true);
      end64.setUint16(14, 45, true);
      end64.setBigUint64(24, BigInt(count), true);
      end64.setBigUint64(32, BigInt(count), true);
      end64.setBigUint64(40, BigInt(size), true);
      end64.setBigUint64(48, BigInt(offset), true);
      const locator = header(0x07064b50, 20);
      locator.setBigUint64(8, BigInt(offset + size), true); // where the zip64 end record is
      locator.setUint32(16, 1, true);
      parts.push(new Uint8Array(end64.buffer), new Uint8Array(locator.buffer));
    }
    const view = header(0x06054b50, 22);
    view.setUint16(8, wide ? FULL16 : count, true);
    view.setUint16(10, wide ? FULL16 : count, true);
    view.setUint32(12, wide ? FULL32 : size, true);
    view.setUint32(16, wide ? FULL32 : offset, true);
    parts.push(new Uint8Array(view.buffer));
    return parts;
  }

  async function* zipChunks(files, base, progress) {
    const encoder = new TextEncoder();
    const entries = [];
    let offset = 0;
    for (let i = 0; i < files.length; i++) {
      const response = await fetch(base + files[i].url);
      if (!response.ok) throw new Error(`${files[i].url}: HTTP ${response.status}`);
      const data = new Uint8Array(await response.arrayBuffer());
      const name = encoder.encode(files[i].name);
      const crc = crc32(data);
      const head = localHeader(name, crc, data.length);
      entries.push({ name, crc, size: data.length, offset });
      offset += head.length + data.length;
      yield head;
      yield data;
      progress(i + 1, files.length);
    }
    let size = 0;
    for (const entry of entries) {
      const record = centralEntry(entry);
      size += record.length;
      yield record;
    }
    yield* endRecords(entries.length, size, offset);
  }

  async function save(list, progress) {
    const base = button.dataset.base;
    const chunks = zipChunks(list.files, base, progress);
    if (window.showSaveFilePicker) {
      const handle = await window.showSaveFilePicker({ suggestedName: list.name });
      const writable = await handle.createWritable();
      for await (const chunk of chunks) await writable.write(chunk);
      await writable.close();
      return;
    }
    const parts = [];
    for await (const chunk of chunks) parts.push(chunk);
    const url = URL.createObjectURL(new Blob(parts, { type: "application/zip" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = list.name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  button.addEventListener("click", async function () {
    const label = button.textContent;
    button.disabled = true;
    try {
      const list = await (await fetch(button.dataset.zip)).json();
      await save(list, function (done, total) {
        button.textContent = `Zipping ${done} of ${total} files…`;
      });
      button.textContent = label;
    } catch (err) {
      button.textContent = err && err.name === "AbortError" ? label : `Download failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
})();
