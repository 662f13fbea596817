// What the input tools (tools.js) ask of the view, as view-state changes. main.js hands in the
// view's parts; nothing here touches the page.

import { valueAt } from "./render.js";
import { fmt } from "./url.js";

// view: { series(), loader(), state, viewport, measuring, axial(), count(), step(d),
// point(x, y), setWindow(w), setProbe(text), update(image) }
export function toolActions(view) {
  const { state, viewport, measuring, update } = view;
  return {
    sliceCount: () => (view.series() ? view.count() : 1),
    step(delta) {
      if (view.series()) view.step(delta);
    },
    point(p) {
      if (view.series()) view.point(p.x, p.y);
    },
    adjustWindow(dx, dy) {
      const series = view.series();
      if (!series || !state.window || series.colour) return;
      const sensitivity = Math.max(0.05, state.window.width / 300);
      view.setWindow({ width: state.window.width + dx * sensitivity, center: state.window.center + dy * sensitivity });
    },
    zoomAt(factor, x, y) {
      viewport.zoomAt(factor, x, y);
      update(false);
    },
    panBy(dx, dy) {
      viewport.panBy(dx, dy);
      update(false);
    },
    resetView() {
      viewport.reset();
      update(false);
    },
    probe(p) {
      const series = view.series();
      if (!series || !view.axial()) return; // values come from axial frames
      const entry = series && view.loader().entry(series, state.slice);
      if (!entry || entry.state !== "ready") return;
      const [ix, iy] = viewport.toImage(p.x, p.y).map(Math.floor);
      const value = valueAt(entry.image, series, ix, iy);
      if (value === null) view.setProbe("");
      else if (Array.isArray(value)) view.setProbe(`x ${ix} y ${iy}\nRGB ${value.join(" ")}`);
      else view.setProbe(`x ${ix} y ${iy}\n${fmt(value)}${series.modality === "CT" ? " HU" : ""}`);
      update(false);
    },
    hover(p, probing) {
      if (measuring.hover(p)) update(false);
      if (probing) this.probe(p);
    },
    measureDown(kind, p) {
      if (!view.axial()) return; // a measurement belongs to an axial slice
      measuring.down(kind, p, state.slice);
      update(false);
    },
    measureMove(p) {
      if (measuring.move(p)) update(false);
    },
    measureUp(p, moved) {
      if (measuring.up(p, moved)) update(false);
    },
    measureCancel() {
      measuring.cancel();
      update(false);
    },
  };
}
