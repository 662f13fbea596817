// Text overlays around the image: slice n/N (or a reformat's plane n/N), window, zoom, orientation letters from
// ImageOrientationPatient and a scale bar from PixelSpacing. Plain DOM (textContent only).

// Patient-direction letters for a direction cosine vector: the dominant axes, strongest first
// (L/R for x, P/A for y, H/F for z, as DICOM's patient coordinate system defines them).
export function directionLetters(vector) {
  if (!vector) return "";
  const letters = [
    [Math.abs(vector[0]), vector[0] > 0 ? "L" : "R"],
    [Math.abs(vector[1]), vector[1] > 0 ? "P" : "A"],
    [Math.abs(vector[2]), vector[2] > 0 ? "H" : "F"],
  ];
  return letters.filter(([m]) => m > 0.25).sort((a, b) => b[0] - a[0]).map(([, l]) => l).join("");
}

const negate = (v) => v && v.map((c) => -c);

// A "nice" length in mm (1, 2 or 5 x 10^n) shown as 50..130 CSS pixels.
export function scaleBar(pxPerMm) {
  if (!(pxPerMm > 0)) return null;
  for (const decade of [0.1, 1, 10, 100, 1000]) {
    for (const step of [1, 2, 5]) {
      const mm = step * decade;
      if (mm * pxPerMm >= 50) return { mm, px: mm * pxPerMm };
    }
  }
  return null;
}

export class Overlays {
  constructor(root) {
    this.root = root;
    this.el = {};
    for (const name of ["tl", "tr", "bl", "br", "top", "bottom", "left", "right"]) {
      this.el[name] = root.querySelector(`[data-overlay="${name}"]`);
    }
    this.bar = root.querySelector("[data-overlay=scale]");
    this.barLabel = root.querySelector("[data-overlay=scale-label]");
  }

  update({ series, seriesCount, slice, window, zoomPercent, transform, probe, status }) {
    const fmt = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toFixed(1)));
    this.el.tl.textContent = [series.modality, series.description].filter(Boolean).join(" · ");
    this.el.tr.textContent =
      `Series ${series.index + 1}/${seriesCount}\n${series.plane ? "Plane" : "Slice"} ${slice + 1}/${series.count ?? series.frames.length}` +
      (status ? `\n${status}` : "");
    this.el.bl.textContent = (series.colour ? "" : `W ${fmt(window.width)} L ${fmt(window.center)}\n`) +
      `Zoom ${zoomPercent}%`;
    this.el.br.textContent = probe || "";
    const o = series.orientation;
    const row = o ? o.slice(0, 3) : null;
    const col = o ? o.slice(3, 6) : null;
    this.el.right.textContent = directionLetters(row);
    this.el.left.textContent = directionLetters(negate(row));
    this.el.bottom.textContent = directionLetters(col);
    this.el.top.textContent = directionLetters(negate(col));
    const spacing = series.pixelSpacing;
    const bar = spacing ? scaleBar(transform.sx / spacing[1]) : null;
    this.bar.hidden = !bar;
    if (bar) {
      this.bar.style.width = `${bar.px}px`;
      this.barLabel.textContent = bar.mm >= 10 ? `${bar.mm / 10} cm` : `${bar.mm} mm`;
    }
  }
}
