// Pixels -> canvas. The canvas always holds one canvas pixel per image pixel (zoom and pan are
// a CSS transform of it, see viewport.js), so what getImageData reads back is exactly the
// windowed image: that is what the pixel-truth tests compare with a numpy rendering.
//
// Window/level follows DICOM PS3.3 C.11.2.1.2 (linear) on the rescaled values
// (stored * slope + intercept), on the full stored range; MONOCHROME1 is inverted after it.

// 0..255 for one rescaled value.
export function windowed(x, center, width) {
  if (width <= 1) return x > center - 0.5 ? 255 : 0;
  const y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
  return y <= 0 ? 0 : y >= 255 ? 255 : Math.round(y);
}

const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function grey(g) {
  return little ? (0xff000000 | (g << 16) | (g << 8) | g) >>> 0 : ((g << 24) | (g << 16) | (g << 8) | 0xff) >>> 0;
}

// A lookup table from stored value to packed RGBA (greyscale) or 0..255 (colour channels),
// covering every value the typed array can hold: windowing is then one load per pixel.
function lookup(pixels, series, window, packed) {
  const size = pixels.BYTES_PER_ELEMENT === 1 ? 256 : 65536;
  const signed = pixels instanceof Int8Array || pixels instanceof Int16Array;
  const offset = signed ? size / 2 : 0;
  const [slope, intercept] = series.colour ? [1, 0] : series.rescale;
  const invert = series.photometric === "MONOCHROME1";
  const table = packed ? new Uint32Array(size) : new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    let g = windowed((k - offset) * slope + intercept, window.center, window.width);
    if (invert) g = 255 - g;
    table[k] = packed ? grey(g) : g;
  }
  return { table, offset };
}

let cached = { key: null, value: null };
function lutFor(pixels, series, window, packed) {
  const key = `${series.index}|${pixels.constructor.name}|${window.width}|${window.center}|${packed}`;
  if (cached.key !== key) cached = { key, value: lookup(pixels, series, window, packed) };
  return cached.value;
}

// Render `image` ({pixels, samples, rows, columns}) into `imageData` (same size).
export function renderImage(image, series, window, imageData) {
  const { pixels, samples } = image;
  const n = image.rows * image.columns;
  const out32 = new Uint32Array(imageData.data.buffer);
  const out8 = imageData.data;
  if (samples === 1 && pixels.BYTES_PER_ELEMENT <= 2) {
    const { table, offset } = lutFor(pixels, series, window, true);
    if (offset === 0) for (let i = 0; i < n; i++) out32[i] = table[pixels[i]];
    else for (let i = 0; i < n; i++) out32[i] = table[pixels[i] + offset];
  } else if (samples === 1) {
    // 32-bit data (e.g. RT dose): no table, compute each pixel
    const [slope, intercept] = series.rescale;
    const invert = series.photometric === "MONOCHROME1";
    for (let i = 0; i < n; i++) {
      let g = windowed(pixels[i] * slope + intercept, window.center, window.width);
      if (invert) g = 255 - g;
      out32[i] = grey(g);
    }
  } else {
    // colour, interleaved RGB (or RGBA from the JPEG path): window each channel
    const { table, offset } = lutFor(pixels, series, window, false);
    for (let i = 0, j = 0; i < n; i++, j += samples) {
      const o = i * 4;
      out8[o] = table[pixels[j] + offset];
      out8[o + 1] = table[pixels[j + 1] + offset];
      out8[o + 2] = table[pixels[j + 2] + offset];
      out8[o + 3] = 255;
    }
  }
}

// The rescaled value at one image pixel (for the probe): a number, or [r, g, b].
export function valueAt(image, series, x, y) {
  if (x < 0 || y < 0 || x >= image.columns || y >= image.rows) return null;
  const i = y * image.columns + x;
  if (image.samples > 1) {
    const j = i * image.samples;
    return [image.pixels[j], image.pixels[j + 1], image.pixels[j + 2]];
  }
  const [slope, intercept] = series.rescale;
  return image.pixels[i] * slope + intercept;
}

// Min and max rescaled value of a greyscale frame: the fallback window for data without one.
export function autoWindow(image, series) {
  if (image.samples > 1) return { width: 256, center: 128 };
  let lo = Infinity;
  let hi = -Infinity;
  const p = image.pixels;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const [slope, intercept] = series.rescale;
  const a = lo * slope + intercept;
  const b = hi * slope + intercept;
  return { width: Math.max(1, Math.abs(b - a)), center: (a + b) / 2 };
}
