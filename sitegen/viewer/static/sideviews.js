// The three-view layout's two small views beside the main one, and the crosshair in all
// three: each side view shows one plane through the shared point, drawn to scale (its pixel
// spacing), with lines through the point; pressing or dragging in one moves the point.

import { renderImage } from "./render.js";
import { PLANE_NAMES } from "./planes.js";

function crossLines(parent) {
  const h = document.createElement("div");
  const v = document.createElement("div");
  h.className = "cross h";
  h.hidden = v.hidden = true;
  v.className = "cross v";
  parent.append(h, v);
  return { h, v };
}

// Puts crosshair lines at [x, y] CSS pixels of their parent (null hides them).
export function placeCross(lines, at) {
  lines.h.hidden = lines.v.hidden = !at;
  if (!at) return;
  lines.h.style.transform = `translateY(${at[1]}px)`;
  lines.v.style.transform = `translateX(${at[0]}px)`;
}

export function stageCross(stage) {
  return crossLines(stage);
}

// One small view: a canvas to scale in its box, a caption, crosshair lines; a press gives
// onPoint(plane, index, [u, v]) in image pixels.
export class Pane {
  constructor(root, onPoint) {
    this.el = document.createElement("figure");
    this.el.className = "pane";
    this.box = document.createElement("div");
    this.box.className = "pane-box";
    this.canvas = document.createElement("canvas");
    this.caption = document.createElement("figcaption");
    this.box.append(this.canvas);
    this.lines = crossLines(this.box);
    this.el.append(this.box, this.caption);
    root.append(this.el);
    this.context = this.canvas.getContext("2d", { alpha: false });
    this.data = null;
    this.plane = null;
    this.view = null;
    const at = (e) => {
      const box = this.canvas.getBoundingClientRect();
      const u = ((e.clientX - box.left) / box.width) * this.canvas.width;
      const v = ((e.clientY - box.top) / box.height) * this.canvas.height;
      onPoint(this.plane, this.index, [u, v]);
    };
    this.canvas.addEventListener("pointerdown", (e) => {
      this.canvas.setPointerCapture?.(e.pointerId);
      this.dragging = true;
      at(e);
    });
    this.canvas.addEventListener("pointermove", (e) => this.dragging && at(e));
    this.canvas.addEventListener("pointerup", () => (this.dragging = false));
    this.canvas.addEventListener("pointercancel", () => (this.dragging = false));
  }

  draw({ plane, view, index, image, at, window, missing, caption }) {
    this.plane = plane;
    this.index = index;
    this.el.dataset.plane = plane;
    this.caption.textContent = caption || `${PLANE_NAMES[plane]} ${index + 1}/${view.count ?? view.frames.length}` +
      (missing ? ` · ${missing} slices to come` : "");
    const { canvas } = this;
    if (canvas.width !== view.columns || canvas.height !== view.rows) {
      canvas.width = view.columns;
      canvas.height = view.rows;
      this.data = this.context.createImageData(view.columns, view.rows);
    }
    if (image && window) {
      renderImage(image, view, window, this.data);
      this.context.putImageData(this.data, 0, 0);
    } else {
      this.context.fillRect(0, 0, canvas.width, canvas.height); // never another position's pixels
    }
    // to scale in the pane: rows are pixelSpacing[0] apart, columns pixelSpacing[1]
    const [sr, sc] = view.pixelSpacing;
    const width = this.el.clientWidth || 1;
    const height = (this.el.clientHeight || 1) - this.caption.offsetHeight;
    const scale = Math.min(width / view.columns, height / ((view.rows * sr) / sc));
    const w = view.columns * scale;
    const h = ((view.rows * sr) / sc) * scale;
    canvas.classList.toggle("pixelated", scale * (globalThis.devicePixelRatio || 1) >= 1.5);
    canvas.style.width = this.box.style.width = `${w}px`;
    canvas.style.height = this.box.style.height = `${h}px`;
    placeCross(this.lines, at && [(at[0] / view.columns) * w, (at[1] / view.rows) * h]);
  }
}

export class SideViews {
  constructor(root, onPoint) {
    this.root = root;
    this.panes = [new Pane(root, onPoint), new Pane(root, onPoint)];
  }

  // `views`: the two planes other than the main one, each as Pane.draw takes it; null hides.
  draw(views) {
    this.root.hidden = !views;
    if (views) views.forEach((v, n) => this.panes[n].draw(v));
  }
}
