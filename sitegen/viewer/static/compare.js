// Compare: a second series (a prior, a follow-up, another series of the same study) beside
// the main one, its slice kept at the main slice's position: in one study by the patient
// coordinates, across studies by an offset that first lines up the two stacks' centres and
// that scrolling the compared view changes. The study selector names each by its interval
// from the main study, from the published (shifted) dates: shifting keeps intervals.

import { FrameLoader } from "./loader.js";
import { Pane } from "./sideviews.js";
import { sliceHeights, stackNormal } from "./planes.js";
import { autoWindow } from "./render.js";
import { defaultWindow } from "./manifest.js";

const $ = (id) => document.getElementById(id);
const DAY = 86400000;

function dateOf(text) {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text || "");
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

function count(n, unit) {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

// "Prior: 2 years earlier", "Follow-up: 3 months later", "Same study", "Same day".
export function interval(main, other) {
  if (main.uid === other.uid) return "Same study";
  const a = dateOf(main.date);
  const b = dateOf(other.date);
  if (a === null || b === null) return "Other study";
  const days = Math.round((b - a) / DAY);
  if (days === 0) return "Same day";
  const n = Math.abs(days);
  const span = n >= 335 ? count(Math.round(n / 365.25), "year") : n >= 28 ? count(Math.round(n / 30.44), "month") : count(n, "day");
  return days < 0 ? `Prior: ${span} earlier` : `Follow-up: ${span} later`;
}

export class Compare {
  // { root, decoder, budget, state, series() (the main one), all() (every series), update() }
  constructor(view) {
    this.v = view;
    this.state = view.state;
    this.loader = new FrameLoader(view.decoder, {
      budget: view.budget,
      onUpdate: (series, index) => series === this.shown?.series && index === this.shown.index && view.update(),
    });
    this.pane = new Pane(view.root, () => {});
    this.pane.el.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.#scroll(Math.sign(e.deltaY));
    }, { passive: false });
    this.shown = null;
    $("btn-layout").addEventListener("click", () => this.state.compare && this.set(null)); // one or the other
    $("compare-with").addEventListener("change", (e) => this.set(e.target.value === "" ? null : Number(e.target.value)));
  }

  // The selector's choices for the main series: every other series, by study interval.
  fill() {
    const main = this.v.series();
    const menu = $("compare-with");
    const options = [new Option("None", "")];
    for (const s of this.v.all()) {
      if (s === main) continue;
      const what = [s.modality, s.description].filter(Boolean).join(" ");
      options.push(new Option(`${interval(main.study, s.study)} · ${s.index + 1}. ${what} (${s.frames.length})`, String(s.index)));
    }
    menu.replaceChildren(...options);
    menu.closest("label").hidden = options.length < 2;
    menu.value = this.state.compare ? String(this.state.compare.series) : "";
  }

  // Compare with series `index` (null: stop); `offset` in mm, else the default.
  set(index, offset = null) {
    const all = this.v.all();
    const main = this.v.series();
    if (index === null || !all[index] || all[index] === main) {
      this.state.compare = null;
    } else {
      this.state.compare = { series: index, offset: offset ?? this.#defaultOffset(main, all[index]) };
    }
    $("compare-with").value = this.state.compare ? String(index) : "";
    document.body.classList.toggle("compare", Boolean(this.state.compare));
    this.v.onChange?.(Boolean(this.state.compare));
    requestAnimationFrame(() => this.v.update());
  }

  #heights(main, other) {
    const normal = stackNormal(main);
    const a = sliceHeights(main, normal);
    const b = sliceHeights(other, normal);
    return a && b ? [a, b] : null;
  }

  #defaultOffset(main, other) {
    const h = this.#heights(main, other);
    if (!h || main.study.uid === other.study.uid) return 0;
    const centre = (list) => (Math.min(...list) + Math.max(...list)) / 2;
    return Math.round((centre(h[1]) - centre(h[0])) * 100) / 100;
  }

  // The compared series' slice at the main slice's position (by index fraction without one).
  #index(main, other) {
    const h = this.#heights(main, other);
    const k = this.state.slice;
    if (!h) return Math.round((k / Math.max(1, main.frames.length - 1)) * (other.frames.length - 1));
    const target = h[0][k] + this.state.compare.offset;
    let best = 0;
    h[1].forEach((z, j) => Math.abs(z - target) < Math.abs(h[1][best] - target) && (best = j));
    return best;
  }

  // Scrolling the compared view moves it alone: the offset changes by its slice's step.
  #scroll(step) {
    if (!this.shown) return;
    const { series, index } = this.shown;
    const next = Math.max(0, Math.min(series.frames.length - 1, index + step));
    const h = this.#heights(this.v.series(), series);
    if (!h || next === index) return;
    this.state.compare.offset = Math.round((this.state.compare.offset + h[1][next] - h[1][index]) * 100) / 100;
    this.v.update();
  }

  draw() {
    const main = this.v.series();
    const other = this.state.compare && this.v.all()[this.state.compare.series];
    this.v.root.hidden = !other;
    if (!other) return (this.shown = null);
    const index = this.#index(main, other);
    this.shown = { series: other, index };
    this.loader.show(other, index);
    const entry = this.loader.entry(other, index);
    const image = entry.state === "ready" ? entry.image : null;
    let window = other.modality === main.modality ? this.state.window : defaultWindow(other);
    if (!window && image) window = autoWindow(image, other);
    const caption = `${interval(main.study, other.study)} · slice ${index + 1}/${other.frames.length}${image ? "" : " · loading"}`;
    this.pane.draw({ plane: "ax", view: other, index, image, at: null, window, missing: 0, caption });
    this.pane.el.dataset.shown = image ? `${other.index}:${index}` : "";
  }
}
