// The SVG layer over the image: the case's annotations and the reader's measurements. It is
// drawn in stage (screen) coordinates from image coordinates on every view change, so lines
// stay one width and labels one size at any zoom.

const SVG = "http://www.w3.org/2000/svg";

function node(parent, name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  parent.appendChild(el);
  return el;
}

// Each shape twice: a dark, wider stroke under the bright one, readable on any grey.
function stroked(parent, name, attrs, cls) {
  node(parent, name, { ...attrs, class: `halo ${cls}` });
  return node(parent, name, { ...attrs, class: cls });
}

function label(parent, x, y, text, cls = "") {
  if (!text) return;
  node(parent, "text", { x, y, class: `label halo ${cls}` }, text);
  node(parent, "text", { x, y, class: `label ${cls}` }, text);
}

function arrow(g, [tx, ty], [fx, fy], text) {
  const len = Math.hypot(tx - fx, ty - fy) || 1;
  const ux = (tx - fx) / len;
  const uy = (ty - fy) / len;
  const head = Math.min(14, len / 2);
  const p1 = [tx - ux * head - uy * head * 0.5, ty - uy * head + ux * head * 0.5];
  const p2 = [tx - ux * head + uy * head * 0.5, ty - uy * head - ux * head * 0.5];
  stroked(g, "line", { x1: fx, y1: fy, x2: tx - ux * head * 0.6, y2: ty - uy * head * 0.6 }, "shape");
  stroked(g, "polygon", { points: `${tx},${ty} ${p1.join(",")} ${p2.join(",")}` }, "shape head");
  label(g, fx + (fx < tx ? -4 : 4), fy + (fy < ty ? -6 : 16), text, fx < tx ? "end" : "");
}

// Whether the case annotation `a` shows on this series/slice (its slice and the ones beside).
export function annotationVisible(a, seriesIndex, slice, revealed) {
  if (a.reveal && !revealed) return false;
  if ((Number(a.series) || 1) - 1 !== seriesIndex) return false;
  return a.slice == null || Math.abs(Number(a.slice) - 1 - slice) <= 1;
}

export function measureText(m, spacing) {
  const [a, b, c] = m.points;
  if (m.kind === "length") {
    const [dy, dx] = spacing || [0, 0];
    if (dx > 0 && dy > 0) return `${Math.hypot((b[0] - a[0]) * dx, (b[1] - a[1]) * dy).toFixed(1)} mm`;
    return `${Math.hypot(b[0] - a[0], b[1] - a[1]).toFixed(1)} px`;
  }
  if (!c) return "";
  const [dy, dx] = spacing || [1, 1];
  const v1 = [(a[0] - b[0]) * dx, (a[1] - b[1]) * dy];
  const v2 = [(c[0] - b[0]) * dx, (c[1] - b[1]) * dy];
  const cos = (v1[0] * v2[0] + v1[1] * v2[1]) / ((Math.hypot(...v1) * Math.hypot(...v2)) || 1);
  return `${((Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI).toFixed(1)}°`;
}

export class AnnotationLayer {
  constructor(svg) {
    this.svg = svg;
  }

  draw({ annotations, measurements, draft, seriesIndex, slice, revealed, showLabels, showAnnotations,
    toScreen, spacing }) {
    this.svg.replaceChildren();
    const g = node(this.svg, "g", { class: "annotations" });
    let shown = 0;
    if (showAnnotations) {
      for (const a of annotations) {
        if (!annotationVisible(a, seriesIndex, slice, revealed)) continue;
        const points = (a.points || []).filter((p) => Array.isArray(p) && p.length >= 2).map((p) => toScreen(p[0], p[1]));
        if (!points.length) continue;
        const text = showLabels || (a.reveal && revealed) ? a.label || "" : "";
        const item = node(g, "g", { class: `annotation ${a.shape || "arrow"}`, "data-label": a.label || "" });
        shown++;
        if (a.shape === "circle") {
          const [c, e] = points;
          const r = e ? Math.hypot(e[0] - c[0], e[1] - c[1]) : 20;
          stroked(item, "circle", { cx: c[0], cy: c[1], r }, "shape");
          label(item, c[0] + r * 0.75 + 4, c[1] - r * 0.75 - 4, text);
        } else if (a.shape === "text") {
          label(item, points[0][0], points[0][1], text || "", "free");
        } else {
          const tip = points[0];
          const tail = points[1] || [tip[0] - 40, tip[1] - 40];
          arrow(item, tip, tail, text);
        }
      }
    }
    const all = [...measurements.filter((m) => m.slice === slice), ...(draft ? [draft] : [])];
    for (const m of all) {
      const pts = m.points.map((p) => toScreen(p[0], p[1]));
      const item = node(g, "g", { class: `measurement ${m.kind}` });
      stroked(item, "polyline", { points: pts.map((p) => p.join(",")).join(" ") }, "shape");
      for (const p of pts) stroked(item, "circle", { cx: p[0], cy: p[1], r: 3 }, "handle");
      const at = pts[pts.length - 1];
      label(item, at[0] + 8, at[1] - 8, measureText(m, spacing));
    }
    return shown;
  }
}
