// Zoom and pan as one mapping between image coordinates (x = column, y = row, the top-left
// corner of the first pixel at 0,0) and the stage's CSS pixels. Zoom is relative to "fit", so
// a shared link frames the same anatomy on a phone and on a desktop.

export class Viewport {
  constructor(stage) {
    this.stage = stage;
    this.columns = 1;
    this.rows = 1;
    this.aspect = 1; // row spacing / column spacing: non-square pixels are drawn to scale
    this.zoom = 1;
    this.center = null; // image point at the stage centre; null = the image centre
  }

  setImage(columns, rows, spacing) {
    this.columns = columns;
    this.rows = rows;
    this.aspect = spacing && spacing[0] > 0 && spacing[1] > 0 ? spacing[0] / spacing[1] : 1;
  }

  size() {
    return { width: this.stage.clientWidth || 1, height: this.stage.clientHeight || 1 };
  }

  fitScale() {
    const { width, height } = this.size();
    return Math.min(width / this.columns, height / (this.rows * this.aspect));
  }

  // CSS pixels per image pixel, horizontally and vertically, and the offset of image 0,0.
  transform() {
    const { width, height } = this.size();
    const sx = this.fitScale() * this.zoom;
    const sy = sx * this.aspect;
    const [cx, cy] = this.center || [this.columns / 2, this.rows / 2];
    return { sx, sy, tx: width / 2 - cx * sx, ty: height / 2 - cy * sy };
  }

  toScreen(x, y) {
    const t = this.transform();
    return [t.tx + x * t.sx, t.ty + y * t.sy];
  }

  toImage(px, py) {
    const t = this.transform();
    return [(px - t.tx) / t.sx, (py - t.ty) / t.sy];
  }

  // Zoom by `factor` keeping the image point under (px, py) where it is.
  zoomAt(factor, px, py) {
    const [ix, iy] = this.toImage(px, py);
    this.zoom = Math.min(64, Math.max(0.1, this.zoom * factor));
    const { width, height } = this.size();
    const sx = this.fitScale() * this.zoom;
    const sy = sx * this.aspect;
    this.center = [ix - (px - width / 2) / sx, iy - (py - height / 2) / sy];
  }

  panBy(dx, dy) {
    const t = this.transform();
    const [cx, cy] = this.center || [this.columns / 2, this.rows / 2];
    this.center = [cx - dx / t.sx, cy - dy / t.sy];
  }

  reset() {
    this.zoom = 1;
    this.center = null;
  }

  // Place the canvas: its backing store stays one pixel per image pixel.
  apply(canvas) {
    const t = this.transform();
    canvas.style.width = `${this.columns}px`;
    canvas.style.height = `${this.rows}px`;
    canvas.style.transform = `matrix(${t.sx}, 0, 0, ${t.sy}, ${t.tx}, ${t.ty})`;
    // crisp pixels once an image pixel is bigger than a screen pixel
    canvas.classList.toggle("pixelated", t.sx * (window.devicePixelRatio || 1) >= 1.5);
  }
}
