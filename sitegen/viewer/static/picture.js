// What the canvas shows for the shown slice: its full frame; until that arrives its preview
// (preview.js), windowed at its own size and drawn scaled up to the frame's; else nothing,
// with a message saying why. Never another slice's pixels under this slice's number.
// stage.dataset.rendered names the slice whose full frame is on screen (tests wait for it),
// stage.dataset.quality says "full" or "preview".

import { renderImage, autoWindow } from "./render.js";

export class Picture {
  constructor(stage, canvas, message) {
    this.stage = stage;
    this.canvas = canvas;
    this.message = message;
    this.context = canvas.getContext("2d", { alpha: false, willReadFrequently: false });
    this.imageData = null;
    this.small = null; // the preview's own canvas and image data
  }

  // A new series: one canvas pixel per image pixel (zoom and pan are a CSS transform).
  resize(columns, rows) {
    this.canvas.width = columns;
    this.canvas.height = rows;
    this.imageData = this.context.createImageData(columns, rows);
  }

  // Shows slice `slice` of `series` from its loader entry or preview image; returns the
  // window (the first frame's range when it had none) and whether pixels were drawn.
  // `key` names what is shown (a reformat's plane and position; by default series:slice).
  show({ entry, preview, series, slice, window, dirty, key = `${series.index}:${slice}` }) {
    const { stage, canvas, message } = this;
    const image = entry.state === "ready" ? entry.image : entry.state === "error" ? null : preview;
    let drawn = false;
    if (image) {
      const quality = image.preview ? "preview" : "full";
      if (dirty || stage.dataset.shown !== `${key}:${quality}`) {
        window ||= autoWindow(image, series);
        if (image.preview) this.#scaled(image, series, window);
        else {
          renderImage(image, series, window, this.imageData);
          this.context.putImageData(this.imageData, 0, 0);
        }
        drawn = true;
      }
      stage.dataset.shown = `${key}:${quality}`;
      stage.dataset.rendered = image.preview ? "" : key;
      stage.dataset.quality = quality;
      message.hidden = true;
      canvas.hidden = false;
      return { window, drawn };
    }
    canvas.hidden = true;
    stage.dataset.shown = stage.dataset.rendered = stage.dataset.quality = "";
    message.hidden = false;
    if (entry.state === "error") {
      message.className = "stage-message";
      message.textContent = `Slice ${slice + 1} could not be shown: ${entry.error}. Other slices still work.`;
    } else {
      message.className = "stage-message loading";
      message.textContent = `Loading slice ${slice + 1}…`;
    }
    return { window, drawn };
  }

  #scaled(image, series, window) {
    let small = this.small;
    if (!small || small.canvas.width !== image.columns || small.canvas.height !== image.rows) {
      const canvas = document.createElement("canvas");
      canvas.width = image.columns;
      canvas.height = image.rows;
      const context = canvas.getContext("2d", { alpha: false });
      small = this.small = { canvas, context, data: context.createImageData(image.columns, image.rows) };
    }
    renderImage(image, series, window, small.data);
    small.context.putImageData(small.data, 0, 0);
    this.context.imageSmoothingEnabled = true;
    this.context.imageSmoothingQuality = "high";
    this.context.drawImage(small.canvas, 0, 0, this.canvas.width, this.canvas.height);
  }
}
