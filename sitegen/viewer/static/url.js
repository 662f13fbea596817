// The view as a URL fragment: every interaction writes it (history.replaceState, so the back
// button is not flooded) and opening a link reads it, so any view can be shared.
//
//   #s=2&i=45&w=1500,-600&z=2,256,240&r=1&a=0&o=0
//   s  series, 1-based (studies in order, then their series)
//   i  slice, 1-based, in display order
//   w  window "W,C" (width, center in rescaled units: HU for CT) or a preset name ("lung")
//   z  zoom relative to fit, then the image point (column, row) at the centre of the view
//   r  1 = revealed (diagnosis, discussion and hidden annotations shown)
//   a  0 = annotations hidden;  o  0 = overlays hidden
//   v  the main view's plane: "cor" or "sag" (a reformat; axial when absent)
//   l  3 = three views (the other planes beside the main one)
//   p  the point the planes pass through: column,row of the axial image (i is its slice)
//   c  the series compared beside the main one, 1-based, then its offset in mm ("3,-12.5")
//   m  measurements: "L:x,y,x,y" (length) or "A:x,y,x,y,x,y" (angle) each prefixed by the
//      slice ("45L:..."), joined by ";" (only those of the shown series)

function num(text) {
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : null;
}

// Short numbers: links stay readable and round-trip to the same view.
export function fmt(value, digits = 2) {
  return String(Number(value.toFixed(digits)));
}

// Parse a window given as "W,C", [W, C] or a preset name; returns {width, center} | {name} | null.
export function parseWindow(value) {
  if (value == null || value === "") return null;
  if (Array.isArray(value) && value.length === 2) {
    const [width, center] = value.map(Number);
    return Number.isFinite(width) && Number.isFinite(center) && width > 0 ? { width, center } : null;
  }
  const text = String(value).trim();
  const parts = text.split(",");
  if (parts.length === 2 && parts.every((p) => num(p) !== null)) {
    const width = num(parts[0]);
    return width > 0 ? { width, center: num(parts[1]) } : null;
  }
  return { name: text.toLowerCase() };
}

export function parseMeasurements(text) {
  const out = [];
  for (const item of (text || "").split(";")) {
    const match = /^(\d+)([LA]):(.*)$/.exec(item.trim());
    if (!match) continue;
    const values = match[3].split(",").map(num);
    const count = match[2] === "L" ? 4 : 6;
    if (values.length !== count || values.some((v) => v === null)) continue;
    const points = [];
    for (let k = 0; k < count; k += 2) points.push([values[k], values[k + 1]]);
    out.push({ slice: Number(match[1]) - 1, kind: match[2] === "L" ? "length" : "angle", points });
  }
  return out;
}

export function formatMeasurements(list) {
  return list
    .map((m) => `${m.slice + 1}${m.kind === "length" ? "L" : "A"}:` +
      m.points.map(([x, y]) => `${fmt(x, 1)},${fmt(y, 1)}`).join(","))
    .join(";");
}

// Fragment -> partial state (0-based indices); unknown or malformed keys are ignored.
export function parseFragment(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = {};
  const s = num(params.get("s"));
  if (s !== null && s >= 1) state.series = Math.floor(s) - 1;
  const i = num(params.get("i"));
  if (i !== null && i >= 1) state.slice = Math.floor(i) - 1;
  const w = parseWindow(params.get("w"));
  if (w) state.window = w;
  const z = (params.get("z") || "").split(",").map(num);
  if (z[0] !== null && z[0] > 0) {
    state.zoom = z[0];
    if (z.length === 3 && z[1] !== null && z[2] !== null) state.center = [z[1], z[2]];
  }
  if (params.has("r")) state.revealed = params.get("r") === "1";
  if (params.has("a")) state.annotations = params.get("a") !== "0";
  if (params.has("o")) state.overlays = params.get("o") !== "0";
  if (params.has("m")) state.measurements = parseMeasurements(params.get("m"));
  const v = params.get("v");
  if (v === "ax" || v === "cor" || v === "sag") state.plane = v;
  if (params.get("l") === "3") state.layout = 3;
  const c = (params.get("c") || "").split(",").map(num);
  if (c[0] !== null && c[0] >= 1) state.compare = { series: Math.floor(c[0]) - 1, offset: c.length > 1 ? c[1] : null };
  const p = (params.get("p") || "").split(",").map(num);
  if (p.length === 2 && p.every((c) => c !== null && c >= 0)) state.point = p.map(Math.floor);
  return state;
}

// Full state -> fragment; defaults are left out so links stay short.
export function formatFragment(state) {
  const parts = [`s=${state.series + 1}`, `i=${state.slice + 1}`];
  if (state.window) parts.push(`w=${fmt(state.window.width)},${fmt(state.window.center)}`);
  if (state.zoom && (Math.abs(state.zoom - 1) > 1e-3 || state.center)) {
    const z = [fmt(state.zoom, 3)];
    if (state.center) z.push(fmt(state.center[0], 1), fmt(state.center[1], 1));
    parts.push(`z=${z.join(",")}`);
  }
  if (state.plane && state.plane !== "ax") parts.push(`v=${state.plane}`);
  if (state.layout === 3) parts.push("l=3");
  if (state.point) parts.push(`p=${state.point[0]},${state.point[1]}`);
  if (state.compare) parts.push(`c=${state.compare.series + 1},${fmt(state.compare.offset)}`);
  if (state.revealed) parts.push("r=1");
  if (state.annotations === false) parts.push("a=0");
  if (state.overlays === false) parts.push("o=0");
  if (state.measurements && state.measurements.length) {
    parts.push(`m=${formatMeasurements(state.measurements)}`);
  }
  return "#" + parts.join("&");
}
