// Pointer, wheel and touch input on the image. Mouse: the left button runs the chosen tool,
// the right button windows, the middle button pans, the wheel scrolls (Ctrl/pinch-trackpad:
// zoom). Touch: one finger runs the chosen tool (default: swipe scrolls), two fingers either
// pinch (zoom + pan) or drag together (window), decided by how they start to move.

export const TOOLS = ["scroll", "window", "zoom", "pan", "length", "angle", "probe"];

export class Tools {
  constructor(stage, viewer) {
    this.stage = stage;
    this.viewer = viewer;
    this.tool = "scroll";
    this.pointers = new Map(); // id -> {x, y} in stage pixels
    this.drag = null; // the one-pointer gesture in progress
    this.pair = null; // the two-pointer gesture in progress
    this.wheelRest = 0;
    stage.addEventListener("pointerdown", (e) => this.#down(e));
    stage.addEventListener("pointermove", (e) => this.#move(e));
    stage.addEventListener("pointerup", (e) => this.#up(e));
    stage.addEventListener("pointercancel", (e) => this.#up(e, true));
    stage.addEventListener("wheel", (e) => this.#wheel(e), { passive: false });
    stage.addEventListener("contextmenu", (e) => e.preventDefault());
    stage.addEventListener("dblclick", () => viewer.resetView());
  }

  #local(e) {
    const box = this.stage.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  }

  #down(e) {
    this.stage.focus({ preventScroll: true });
    const p = this.#local(e);
    this.pointers.set(e.pointerId, p);
    try {
      this.stage.setPointerCapture(e.pointerId);
    } catch {
      // synthetic pointers cannot always be captured; nothing is lost
    }
    if (this.pointers.size === 2) {
      this.#cancelDrag();
      const [a, b] = [...this.pointers.values()];
      this.pair = {
        mode: null, d0: Math.hypot(a.x - b.x, a.y - b.y), m0: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
        last: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, lastD: Math.hypot(a.x - b.x, a.y - b.y),
      };
      return;
    }
    if (this.pointers.size > 2) return;
    let tool = this.tool;
    if (e.pointerType === "mouse") {
      if (e.button === 2) tool = "window";
      else if (e.button === 1) tool = "pan";
      else if (e.button !== 0) return;
      if (e.button === 0 && e.shiftKey) tool = "pan";
      if (e.button === 0 && (e.ctrlKey || e.metaKey)) tool = "zoom";
    }
    e.preventDefault();
    this.drag = { tool, start: p, last: p, rest: 0, moved: false };
    if (tool === "length" || tool === "angle") this.viewer.measureDown(tool, p);
    if (tool === "probe") this.viewer.probe(p);
  }

  #move(e) {
    const p = this.#local(e);
    if (!this.pointers.has(e.pointerId)) {
      if (e.pointerType === "mouse") this.viewer.hover(p, this.tool === "probe");
      return;
    }
    this.pointers.set(e.pointerId, p);
    if (this.pair && this.pointers.size === 2) {
      this.#pairMove();
      return;
    }
    const drag = this.drag;
    if (!drag) return;
    const dx = p.x - drag.last.x;
    const dy = p.y - drag.last.y;
    drag.last = p;
    if (Math.hypot(p.x - drag.start.x, p.y - drag.start.y) > 3) drag.moved = true;
    switch (drag.tool) {
      case "scroll": {
        // one slice per few pixels, faster for long stacks so a swipe covers the stack
        const per = Math.max(2, Math.min(16, this.stage.clientHeight / Math.max(1, this.viewer.sliceCount())));
        drag.rest += dy;
        const steps = Math.trunc(drag.rest / per);
        if (steps) {
          drag.rest -= steps * per;
          // a swipe up (finger moving up) moves forward, like scrolling a page
          this.viewer.step(e.pointerType === "touch" ? -steps : steps);
        }
        break;
      }
      case "window":
        this.viewer.adjustWindow(dx, dy);
        break;
      case "zoom":
        this.viewer.zoomAt(Math.exp(-dy / 150), drag.start.x, drag.start.y);
        break;
      case "pan":
        this.viewer.panBy(dx, dy);
        break;
      case "length":
      case "angle":
        this.viewer.measureMove(p);
        break;
      case "probe":
        this.viewer.probe(p);
        break;
    }
  }

  #pairMove() {
    const [a, b] = [...this.pointers.values()];
    const pair = this.pair;
    const d = Math.hypot(a.x - b.x, a.y - b.y);
    const m = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    if (!pair.mode) {
      const spread = Math.abs(d - pair.d0);
      const travel = Math.hypot(m.x - pair.m0.x, m.y - pair.m0.y);
      if (spread < 12 && travel < 12) return; // not decided yet
      pair.mode = spread > travel * 0.6 ? "pinch" : "window";
      pair.last = m;
      pair.lastD = d;
      return;
    }
    if (pair.mode === "pinch") {
      this.viewer.zoomAt(d / (pair.lastD || d), pair.last.x, pair.last.y, true);
      this.viewer.panBy(m.x - pair.last.x, m.y - pair.last.y);
    } else {
      this.viewer.adjustWindow(m.x - pair.last.x, m.y - pair.last.y);
    }
    pair.last = m;
    pair.lastD = d;
  }

  #up(e, cancelled = false) {
    if (!this.pointers.has(e.pointerId)) return;
    this.pointers.delete(e.pointerId);
    if (this.pair) {
      if (this.pointers.size < 2) this.pair = null;
      this.drag = null; // lifting one of two fingers must not start a scroll
      return;
    }
    const drag = this.drag;
    this.drag = null;
    if (!drag || cancelled) return;
    if (drag.tool === "length" || drag.tool === "angle") this.viewer.measureUp(this.#local(e), drag.moved);
    if (drag.tool === "scroll" && !drag.moved) this.viewer.point(this.#local(e));
  }

  #cancelDrag() {
    if (this.drag && (this.drag.tool === "length" || this.drag.tool === "angle")) this.viewer.measureCancel();
    this.drag = null;
  }

  #wheel(e) {
    e.preventDefault();
    const p = this.#local(e);
    const delta = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
    if (e.ctrlKey || e.metaKey) {
      this.viewer.zoomAt(Math.exp(-delta / 300), p.x, p.y);
      return;
    }
    // a mouse notch (~100) is one slice; trackpads send many small deltas that add up
    this.wheelRest += delta;
    const steps = Math.trunc(this.wheelRest / 50) || 0;
    if (steps) {
      this.wheelRest -= steps * 50;
      this.viewer.step(Math.sign(steps) * Math.max(1, Math.round(Math.abs(steps) / 2)));
    }
  }
}
