// Reformats: coronal and sagittal planes rebuilt from the loaded axial stack, and the maths
// between a point of the stack and its place in each plane. Pure functions, no DOM.
//
// A point is [x, y, k]: column and row of axial slice k (display order). In a reformat the
// rows are the slices, superior first, so slice k is row rowOf[k] and row r is slice order[r].

export const PLANES = ["ax", "cor", "sag"];
export const PLANE_NAMES = { ax: "Axial", cor: "Coronal", sag: "Sagittal" };

const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const mm = (v) => Number(v.toFixed(2));

// Whether the stack can be reformatted, and how: { ok: true, order, rowOf, spacing, down } or
// { ok: false, reason } (said to the reader as it is).
export function stackGeometry(series) {
  const n = series.frames.length;
  if (series.colour) return { ok: false, reason: "colour images are not reformatted" };
  if (n < 3) return { ok: false, reason: `${n} slice${n === 1 ? "" : "s"} make no stack` };
  const o = series.orientation;
  const ps = series.pixelSpacing;
  if (!o || o.length !== 6 || !ps || !(ps[0] > 0 && ps[1] > 0)) {
    return { ok: false, reason: "the slices carry no orientation or pixel spacing" };
  }
  const positions = series.frames.map((f) => f.position);
  if (positions.some((p) => !p || p.length !== 3)) return { ok: false, reason: "some slices have no position" };
  const row = o.slice(0, 3);
  const col = o.slice(3, 6);
  const normal = cross(row, col);
  if (Math.abs(normal[2]) < 0.95) return { ok: false, reason: "the slices are not axial" };
  // superior first: patient z grows towards the head
  const height = positions.map((p) => dot(p, normal) * Math.sign(normal[2]));
  const order = [...positions.keys()].sort((a, b) => height[b] - height[a]);
  const gaps = order.slice(1).map((k, r) => height[order[r]] - height[k]);
  const lo = Math.min(...gaps);
  const hi = Math.max(...gaps);
  if (lo < 0.01) return { ok: false, reason: "two slices share one position" };
  if (hi - lo > 0.1 * lo + 0.01) {
    return { ok: false, reason: `the slices are not evenly spaced (${mm(lo)}–${mm(hi)} mm apart)` };
  }
  const first = positions[order[0]];
  for (const k of order) {
    const d = positions[k].map((v, i) => v - first[i]);
    if (Math.abs(dot(d, row)) > ps[1] / 2 || Math.abs(dot(d, col)) > ps[0] / 2) {
      return { ok: false, reason: "the slices are shifted against each other (a tilted gantry)" };
    }
  }
  const rowOf = new Int32Array(n);
  order.forEach((k, r) => (rowOf[k] = r));
  const step = (height[order[0]] - height[order[n - 1]]) / (n - 1);
  const down = normal.map((v) => -v * Math.sign(normal[2])); // from the first row to the last
  return { ok: true, order, rowOf, spacing: step, down, row, col };
}

// The plane as a series-like description for the viewport and overlays: its size, pixel
// spacing [between rows, between columns], orientation and number of positions.
export function planeView(plane, series, g) {
  if (plane === "ax") return series;
  const [rowSpacing, colSpacing] = series.pixelSpacing;
  const n = series.frames.length;
  const sag = plane === "sag";
  return {
    ...series,
    plane,
    columns: sag ? series.rows : series.columns,
    rows: n,
    pixelSpacing: [g.spacing, sag ? rowSpacing : colSpacing],
    orientation: [...(sag ? g.col : g.row), ...g.down],
    count: sag ? series.columns : series.rows,
  };
}

// How many positions the plane has, and where point [x, y, k] is in it: its index and the
// image point (pixel centre) of the point in that position's image.
export function planeCount(plane, series) {
  return plane === "ax" ? series.frames.length : plane === "cor" ? series.rows : series.columns;
}

export function locate(plane, g, [x, y, k]) {
  if (plane === "ax") return { index: k, at: [x + 0.5, y + 0.5] };
  const r = g.rowOf[k] + 0.5;
  return plane === "cor" ? { index: y, at: [x + 0.5, r] } : { index: x, at: [y + 0.5, r] };
}

// The point under image point [u, v] of position `index` of the plane (clamped to the stack).
export function pointAt(plane, g, series, index, [u, v]) {
  const n = series.frames.length;
  const clamp = (a, hi) => Math.max(0, Math.min(hi - 1, Math.floor(a)));
  if (plane === "ax") return [clamp(u, series.columns), clamp(v, series.rows), index];
  const k = g.order[clamp(v, n)];
  return plane === "cor" ? [clamp(u, series.columns), index, k] : [index, clamp(u, series.rows), k];
}

// The plane's image at `index`, one row per slice, from `pixelsOf(k)`: the slice's full frame
// ({pixels, columns, rows}), else its preview (sampled on its coarser grid), else null (a
// black row until it arrives). Returns { image, missing } (slices not yet in full quality).
export function planeImage(plane, series, g, index, pixelsOf) {
  const n = series.frames.length;
  const sag = plane === "sag";
  const width = sag ? series.rows : series.columns;
  let out = null;
  let missing = 0;
  for (let r = 0; r < n; r++) {
    const source = pixelsOf(g.order[r]);
    if (!source || source.preview) missing++;
    if (!source) continue;
    out ||= new source.pixels.constructor(width * n);
    const fx = source.columns / series.columns;
    const fy = source.rows / series.rows;
    const p = source.pixels;
    const base = r * width;
    if (!sag) {
      const line = Math.floor(index * fy) * source.columns;
      if (fx === 1) out.set(p.subarray(line, line + width), base);
      else for (let u = 0; u < width; u++) out[base + u] = p[line + Math.floor(u * fx)];
    } else {
      const column = Math.floor(index * fx);
      for (let u = 0; u < width; u++) out[base + u] = p[Math.floor(u * fy) * source.columns + column];
    }
  }
  if (!out) return { image: null, missing };
  return { image: { pixels: out, samples: 1, rows: n, columns: width }, missing };
}

// Each slice's height (mm) along `normal` (another series' stack normal, so that two series
// are measured alike), or null when the series has no orientation or a slice no position.
export function sliceHeights(series, normal = stackNormal(series)) {
  if (!normal || series.frames.some((f) => !f.position || f.position.length !== 3)) return null;
  return series.frames.map((f) => dot(f.position, normal));
}

export function stackNormal(series) {
  const o = series.orientation;
  return o && o.length === 6 ? cross(o.slice(0, 3), o.slice(3, 6)) : null;
}
