// Case page: the case's zip made in the browser from its published Part 10 files
// ([build] zips = "browser"), so the site holds their bytes once. The zip is "stored" (the
// frames are compressed already): local headers, the files, a central directory. Written
// straight to disk where the browser can (showSaveFilePicker: no size limit), else
// assembled in memory and saved as one download. Up to 4 GB (no zip64).
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

  function header(signature, size) {
    const view = new DataView(new ArrayBuffer(size));
    view.setUint32(0, signature, true);
    return view;
  }

  function localHeader(name, crc, size) {
    const view = header(0x04034b50, 30 + name.length);
    view.setUint16(4, 20, true); // version needed
    view.setUint16(6, 0x0800, true); // UTF-8 names
    view.setUint16(8, 0, true); // stored
    view.setUint16(10, DOS_TIME, true);
    view.setUint16(12, DOS_DATE, true);
    view.setUint32(14, crc, true);
    view.setUint32(18, size, true);
    view.setUint32(22, size, true);
    view.setUint16(26, name.length, true);
    new Uint8Array(view.buffer).set(name, 30);
    return new Uint8Array(view.buffer);
  }

  function centralEntry(entry) {
    const { name, crc, size, offset } = entry;
    const view = header(0x02014b50, 46 + name.length);
    view.setUint16(4, 20, true); // made by
    view.setUint16(6, 20, true); // needed
    view.setUint16(8, 0x0800, true);
    view.setUint16(10, 0, true);
    view.setUint16(12, DOS_TIME, true);
    view.setUint16(14, DOS_DATE, true);
    view.setUint32(16, crc, true);
    view.setUint32(20, size, true);
    view.setUint32(24, size, true);
    view.setUint16(28, name.length, true);
    view.setUint32(42, offset, true);
    new Uint8Array(view.buffer).set(name, 46);
    return new Uint8Array(view.buffer);
  }

  function endRecord(count, size, offset) {
    const view = header(0x06054b50, 22);
    view.setUint16(8, count, true);
    view.setUint16(10, count, true);
    view.setUint32(12, size, true);
    view.setUint32(16, offset, true);
    return new Uint8Array(view.buffer);
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
      if (offset > 0xffffffff) throw new Error("the case is over 4 GB: too large for one zip");
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
    yield endRecord(entries.length, size, offset);
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
