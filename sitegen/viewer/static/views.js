// Which plane the main view shows (axial, or a coronal or sagittal reformat of the loaded
// stack), the layout (one view, or three with the other planes beside it), and the point
// they all pass through. The state is main.js's ({plane, layout, point, slice}); this turns
// it into what to draw, changes it on the reader's input, and keeps the plane menu and the
// layout button in step.

import { stackGeometry, planeView, planeCount, locate, pointAt, planeImage, PLANES, PLANE_NAMES } from "./planes.js";
import { SideViews, stageCross, placeCross } from "./sideviews.js";
import { showMessage } from "./ui.js";

const $ = (id) => document.getElementById(id);

export class Reformats {
  // { stage, sides, state, viewport, picture, series(), loader(), setSlice(k), update(image) }
  constructor(view) {
    this.v = view;
    this.state = view.state;
    this.geometries = new WeakMap();
    this.cross = stageCross(view.stage);
    this.sides = new SideViews(view.sides, (plane, index, uv) => this.#setPoint(this.#pointAt(plane, index, uv)));
    $("plane").addEventListener("change", (e) => this.#setPlane(e.target.value));
    $("btn-layout").addEventListener("click", () => this.#setPlane(this.state.plane, this.state.layout === 3 ? 1 : 3));
  }

  #geometry(series = this.v.series()) {
    let g = this.geometries.get(series);
    if (!g) this.geometries.set(series, (g = stackGeometry(series)));
    return g;
  }

  // Slice k's decoded full frame, else its preview, else null.
  #pixels(series, k) {
    const loader = this.v.loader();
    const entry = loader.entry(series, k);
    return entry.state === "ready" ? entry.image : loader.previews.image(series, k);
  }

  // The point [x, y, k]: its column and row (the image centre until set) on the shown slice.
  #point() {
    const series = this.v.series();
    const [x, y] = this.state.point || [series.columns >> 1, series.rows >> 1];
    return [Math.min(x, series.columns - 1), Math.min(y, series.rows - 1), this.state.slice];
  }

  #pointAt(plane, index, uv) {
    return pointAt(plane, this.#geometry(), this.v.series(), index, uv);
  }

  // The main view: {plane, view (series-like), index, count, at (the point in its image)}.
  main() {
    const series = this.v.series();
    const g = this.#geometry(series);
    const plane = g.ok ? this.state.plane : "ax";
    const { index, at } = locate(plane, g, this.#point());
    return { plane, view: planeView(plane, series, g), index, count: planeCount(plane, series), at };
  }

  // A reformat's pixels as Picture.show takes them: a ready entry once any slice is in.
  shown(main) {
    const series = this.v.series();
    const { image } = planeImage(main.plane, series, this.#geometry(), main.index, (k) => this.#pixels(series, k));
    const entry = image ? { state: "ready", image } : { state: "loading" };
    return { entry, preview: null, key: `${main.plane}:${series.index}:${main.index}` };
  }

  // The main view's plane or size changed: the viewport, canvas, slider and menu follow it.
  fit() {
    const { view, count } = this.main();
    this.v.viewport.setImage(view.columns, view.rows, view.pixelSpacing);
    this.v.viewport.reset();
    this.v.picture.resize(view.columns, view.rows);
    $("slider").max = String(count);
    $("slider").disabled = count < 2;
    this.#controls();
  }

  // The plane, layout and point of a link (a link without them is one axial view).
  apply(frag) {
    const series = this.v.series();
    if (frag.point) this.state.point = [Math.min(frag.point[0], series.columns - 1), Math.min(frag.point[1], series.rows - 1)];
    this.#setPlane(frag.plane ?? "ax", frag.layout ?? 1);
  }

  // Position `index` of the main view's plane: a slice, or a reformat's row or column.
  setIndex(index) {
    const { plane, count } = this.main();
    const next = Math.max(0, Math.min(count - 1, index));
    if (plane === "ax") return this.v.setSlice(next);
    const [x, y, k] = this.#point();
    this.#setPoint(plane === "cor" ? [x, next, k] : [next, y, k]);
  }

  // A press that did not move, in three views: the point the planes pass through.
  press(x, y) {
    if (this.state.layout !== 3) return;
    const { plane, index } = this.main();
    this.#setPoint(this.#pointAt(plane, index, this.v.viewport.toImage(x, y)));
  }

  #setPoint([x, y, k]) {
    this.state.point = [x, y];
    if (k !== this.state.slice) this.v.setSlice(k);
    this.v.update(true);
  }

  #setPlane(plane, layout = this.state.layout) {
    const { ok, reason } = this.#geometry();
    if (!ok && (plane !== "ax" || layout === 3)) showMessage(`No reformats of this series: ${reason}.`, { timeout: 6000 });
    const next = ok ? plane : "ax";
    this.state.layout = ok ? layout : 1;
    if (next !== this.state.plane) {
      this.state.plane = next;
      this.fit();
    }
    this.#controls();
    requestAnimationFrame(() => this.v.update(true)); // once the layout has sized the stage
  }

  // After the main view is drawn: the crosshair over it and the side views (three views).
  decorate() {
    const series = this.v.series();
    const g = this.#geometry(series);
    const main = this.main();
    const three = this.state.layout === 3 && g.ok;
    placeCross(this.cross, three ? this.v.viewport.toScreen(...main.at) : null);
    if (!three) return this.sides.draw(null);
    const point = this.#point();
    const window = this.state.window;
    this.sides.draw(PLANES.filter((p) => p !== main.plane).map((plane) => {
      const { index, at } = locate(plane, g, point);
      const view = planeView(plane, series, g);
      if (plane !== "ax") return { plane, view, index, at, window, ...planeImage(plane, series, g, index, (k) => this.#pixels(series, k)) };
      const image = this.#pixels(series, index);
      return { plane, view, index, at, window, missing: 0, image: image && !image.preview ? image : null };
    }));
  }

  // Why this series has no reformats, as the reader is told ("" when it has them).
  refusal() {
    const g = this.#geometry();
    return g.ok ? "" : g.reason;
  }

  #controls() {
    const why = this.refusal();
    const menu = $("plane");
    const button = $("btn-layout");
    menu.disabled = button.disabled = Boolean(why);
    menu.title = why ? `No reformats: ${why}` : "The plane of the main view";
    button.title = why ? menu.title : "Three views: the other planes beside this one";
    menu.value = why ? "ax" : this.state.plane;
    const three = !why && this.state.layout === 3;
    button.setAttribute("aria-pressed", String(three));
    document.body.classList.toggle("three", three);
  }
}

export { PLANE_NAMES };
