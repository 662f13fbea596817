// The viewer's controller: boots from ?case=<slug> and the fragment, owns the view state,
// and turns input into state changes, state changes into one render per animation frame and
// a fragment update (so every view is a link).

import { parseFragment, parseWindow } from "./url.js";
import { loadManifest, defaultWindow, presetWindow, SITE_ROOT } from "./manifest.js";
import { DecoderPool } from "./decoder.js";
import { FrameLoader } from "./loader.js";
import { autoWindow } from "./render.js";
import { Picture } from "./picture.js";
import { Viewport } from "./viewport.js";
import { Overlays } from "./overlays.js";
import { AnnotationLayer, measureText } from "./annotations.js";
import { Tools, TOOLS } from "./tools.js";
import * as ui from "./ui.js";
import { fitToolbar } from "./overflow.js";
import { compactWhenSmall } from "./embed.js";
import { loadAnswer, tellPage, listenToPage } from "./answer.js";
import { listenToKeys } from "./keys.js";
import { FragmentSync } from "./fragment.js";
import { Cine } from "./cine.js";
import { toolActions } from "./actions.js";
import { Measuring } from "./measure.js";
import { Reformats, PLANE_NAMES } from "./views.js";
import { Compare } from "./compare.js";

const $ = (id) => document.getElementById(id);
const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

let decoder = null; // made in start(), from the WASM and worker boot.js has started
const stage = $("stage");
const canvas = $("image");
const picture = new Picture(stage, canvas, $("stage-message"));
const viewport = new Viewport(stage);
const overlays = new Overlays($("overlays"));
const layer = new AnnotationLayer($("svg"));
let loader = null;
let compare = null; // the compared series' view (compare.js), made with the loader

const state = {
  series: 0,
  slice: 0,
  window: null, // {width, center}; null until known (from data, preset or first frame)
  revealed: false,
  annotations: true,
  overlays: true,
  measurements: [], // of the shown series: {slice, kind, points}
  plane: "ax", // the main view's plane: "ax", or a reformat "cor" / "sag" (views.js)
  layout: 1, // 1 view, or 3 (the other planes beside it)
  point: null, // [column, row] the planes pass through; null = the image centre
  compare: null, // {series, offset (mm)}: another series beside the main one
};
let data = null;
let current = null; // the shown series
let probeText = "";
let frame = 0; // requestAnimationFrame handle
let dirtyImage = false;
const stats = {
  started: performance.now(), firstImage: null, firstFull: null, renders: [], rendered: false, allLoaded: null,
  scrollable: null, // every slice on screen at once: its full frame or its preview
};
const views = new Reformats({
  stage, sides: $("sides"), state, viewport, picture, series: () => current, loader: () => loader,
  setSlice: (k) => setSlice(k), update: (image) => update(image),
});

// ---- state changes -------------------------------------------------------------------------

function resolveWindow(series, w) {
  if (!w || series.colour) return null;
  if (w.name) return presetWindow(series, w.name);
  return { width: w.width, center: w.center };
}

function showSeries(index, { slice = null, window = null } = {}) {
  current = data.series[index];
  state.series = index;
  // "OHIF" opens this series' study in the full OHIF viewer when the site bundles it
  const ohif = $("link-ohif");
  ohif.hidden = !current.study.ohif;
  if (current.study.ohif) ohif.href = new URL(current.study.ohif, SITE_ROOT).href;
  state.slice = clamp(slice ?? Math.floor(current.frames.length / 2), 0, current.frames.length - 1);
  state.window = resolveWindow(current, window) || defaultWindow(current);
  state.measurements = [];
  state.point = null;
  measuring.cancel();
  views.fit();
  if (state.compare?.series === index) compare.set(null);
  compare.fill();
  ui.fillPresets(current, (n) => setWindow(current.windows[n]));
  ui.markSeries(index);
  loader.show(current, state.slice);
  update(true);
}

function setSlice(index) {
  const n = current.frames.length;
  const next = clamp(index, 0, n - 1);
  if (next === state.slice) return;
  state.slice = next;
  measuring.cancel();
  loader.show(current, next);
  update(true);
}

function setWindow(w) {
  if (!w || current.colour) return;
  state.window = { width: Math.max(1, w.width), center: w.center };
  update(true);
}

async function setRevealed(on) {
  if (on) {
    try {
      await loadAnswer(data.case);
    } catch (err) {
      ui.showMessage(err.message);
      return;
    }
  }
  if (state.revealed === on) return;
  state.revealed = on;
  ui.fillCase(data.case, on);
  update(false);
  tellPage(on);
}

// ---- rendering -------------------------------------------------------------------------------

function update(image) {
  dirtyImage ||= image;
  if (!frame) frame = requestAnimationFrame(draw);
  fragment.schedule();
}

function draw() {
  frame = 0;
  if (!current) return;
  const t0 = performance.now();
  const entry = loader.entry(current, state.slice);
  const main = views.main();
  const axial = main.plane === "ax";
  const shown = axial ? { entry, preview: loader.previews.image(current, state.slice) } : views.shown(main);
  const painted = picture.show({ ...shown, series: main.view, slice: main.index, window: state.window, dirty: dirtyImage });
  state.window = painted.window;
  stats.rendered ||= painted.drawn;
  if (painted.drawn && stats.firstImage === null) stats.firstImage = performance.now();
  if (entry.state === "ready" && stats.firstFull === null) {
    stats.firstFull = performance.now();
    ui.loadThumbnails();
    decoder.grow(); // more workers only now: they would compete with the first frame
  }
  dirtyImage = false;
  viewport.apply(canvas);
  const transform = viewport.transform();
  $("overlays").hidden = !state.overlays;
  const loaded = loader.loadedCount(current);
  const quality = current.preview && stage.dataset.quality ? (stage.dataset.quality === "full" ? "full quality" : "preview") : "";
  const status = [axial ? quality : PLANE_NAMES[main.plane], loaded < current.frames.length ? `cached ${loaded}/${current.frames.length}` : ""]
    .filter(Boolean).join(" · ");
  if (state.window) {
    overlays.update({
      series: main.view, seriesCount: data.series.length, slice: main.index, window: state.window,
      zoomPercent: Math.round(transform.sx * 100), transform, probe: probeText, status,
    });
  }
  const drawn = layer.draw({ // annotations and measurements belong to axial slices
    annotations: axial ? data.case.annotations : [], measurements: axial ? state.measurements : [], draft: measuring.draft,
    seriesIndex: current.index, slice: state.slice, revealed: state.revealed,
    showLabels: !data.case.unknown || state.revealed, showAnnotations: state.annotations,
    toScreen: (x, y) => viewport.toScreen(x, y), spacing: current.pixelSpacing,
  });
  stage.dataset.annotations = String(drawn);
  views.decorate();
  compare.draw();
  $("slider").value = String(main.index + 1);
  $("slice-label").textContent = `${main.index + 1} / ${main.count}`;
  if (state.window) ui.markPreset(current, state.window);
  if (stats.rendered) {
    // time spent in this draw (window/level, canvas, overlays, SVG), for the benchmark
    stats.renders.push(performance.now() - t0);
    if (stats.renders.length > 2000) stats.renders.splice(0, 1000);
    stats.rendered = false;
  }
}

function frameUpdated(series, index, entry) {
  if (series === current) {
    if (index === state.slice || state.plane !== "ax" || state.layout === 3) update(true); // reformats hold every slice
    else if (!frame) frame = requestAnimationFrame(draw); // the "cached n/N" status
    if (stats.allLoaded === null && loader.loadedCount(series) === series.frames.length) {
      stats.allLoaded = performance.now();
    }
    if (stats.scrollable === null && series.frames.every((_, i) => loader.entry(series, i).state === "ready" || loader.previews.image(series, i))) {
      stats.scrollable = performance.now();
    }
  }
  if (entry.state === "error" && series === current && index === state.slice) {
    ui.announce(`Slice ${index + 1}: ${entry.error}`);
  }
}

// ---- the fragment ----------------------------------------------------------------------------

function urlState() {
  return {
    ...state,
    zoom: viewport.zoom,
    center: viewport.center,
  };
}

const fragment = new FragmentSync(
  () => (current ? urlState() : null),
  (frag) => Boolean(data) && (applyFragment(frag), true),
);

function applyFragment(frag) {
  if (frag.series != null && frag.series !== state.series && frag.series < data.series.length) {
    showSeries(frag.series, { slice: frag.slice, window: frag.window });
  } else {
    if (frag.slice != null) setSlice(frag.slice);
    if (frag.window) setWindow(resolveWindow(current, frag.window));
  }
  views.apply(frag);
  compare.set(frag.compare?.series ?? null, frag.compare?.offset);
  if (frag.zoom) {
    viewport.zoom = frag.zoom;
    viewport.center = frag.center || null;
  }
  if (frag.revealed != null && frag.revealed !== state.revealed) setRevealed(frag.revealed);
  if (frag.annotations != null) state.annotations = frag.annotations;
  if (frag.overlays != null) state.overlays = frag.overlays;
  if (frag.measurements) state.measurements = frag.measurements.filter((m) => m.slice < current.frames.length);
  ui.setPressed($("btn-annotations"), state.annotations);
  update(false);
}

// ---- what the input tools call -----------------------------------------------------------------

const measuring = new Measuring(
  (x, y) => viewport.toImage(x, y),
  (done) => {
    state.measurements.push(done);
    ui.announce(`${done.kind} ${measureText(done, current.pixelSpacing)}`);
  },
);

const viewer = toolActions({
  series: () => current,
  loader: () => loader,
  state,
  viewport,
  measuring,
  axial: () => views.main().plane === "ax",
  count: () => views.main().count,
  step: (d) => views.setIndex(views.main().index + d),
  point: (x, y) => views.press(x, y),
  setWindow,
  setProbe: (text) => (probeText = text),
  update,
});

// ---- chrome: buttons, slider, keys -----------------------------------------------------------

const tools = new Tools(stage, viewer);

function setTool(name) {
  tools.tool = name;
  measuring.cancel();
  probeText = "";
  for (const b of document.querySelectorAll("[data-tool]")) ui.setPressed(b, b.dataset.tool === name);
  update(false);
}

const cine = new Cine($("btn-play"), $("fps"), () => {
  const next = (state.slice + 1) % current.frames.length;
  const shown = loader.entry(current, next).state;
  if (shown === "ready" || shown === "error") setSlice(next);
  else loader.show(current, next);
});

function resetAll() {
  cine.play(false);
  viewport.reset();
  state.window = resolveWindow(current, parseWindow(data.case.view.window)) || defaultWindow(current);
  if (!state.window) {
    const entry = loader.entry(current, state.slice);
    if (entry.state === "ready") state.window = autoWindow(entry.image, current);
  }
  update(true);
}

document.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));
$("slider").addEventListener("input", (e) => views.setIndex(Number(e.target.value) - 1));
$("btn-play").addEventListener("click", () => cine.play(!cine.playing));
$("fps").addEventListener("change", () => cine.playing && cine.play(true));
$("btn-reset").addEventListener("click", resetAll);
$("btn-link").addEventListener("click", () => {
  fragment.write();
  ui.copyLink(location.href);
});
$("btn-help").addEventListener("click", () => $("help").showModal());
$("btn-case").addEventListener("click", () => {
  ui.toggle("btn-case", "panel");
  requestAnimationFrame(() => update(false));
});
$("btn-series").addEventListener("click", () => {
  ui.toggle("btn-series", "strip");
  requestAnimationFrame(() => update(false));
});
$("btn-reveal").addEventListener("click", () => setRevealed(!state.revealed));
$("btn-annotations").addEventListener("click", () => {
  state.annotations = !state.annotations;
  ui.setPressed($("btn-annotations"), state.annotations);
  update(false);
});
new ResizeObserver(() => current && update(false)).observe(stage);
fitToolbar();
compactWhenSmall();

listenToKeys({
  ready: () => Boolean(current),
  step: (d) => viewer.step(d),
  first: () => views.setIndex(0),
  last: () => views.setIndex(Infinity),
  zoom: (f) => viewer.zoomAt(f, stage.clientWidth / 2, stage.clientHeight / 2),
  resetView: () => viewer.resetView(),
  resetAll,
  playPause: () => cine.play(!cine.playing),
  series: (d) => data.series.length > 1 && showSeries((state.series + d + data.series.length) % data.series.length),
  annotations: () => $("btn-annotations").click(),
  overlays: () => { state.overlays = !state.overlays; update(false); },
  copyLink: () => $("btn-link").click(),
  help: () => $("help").showModal(),
  cancel: () => viewer.measureCancel(),
  deleteLast: () => { state.measurements = state.measurements.filter((m, i, all) => i !== all.findLastIndex((x) => x.slice === state.slice)); update(false); },
  preset: (n) => setWindow(current.windows[n]),
  tool: setTool,
  tools: TOOLS,
});

// ---- boot ------------------------------------------------------------------------------------

// boot.js calls this with what it started: { slug, manifestFetch, wasm, workerUrl, firstWorker }.
export function start(early) {
  decoder = new DecoderPool(early);
  loader = new FrameLoader(decoder, { onUpdate: frameUpdated });
  compare = new Compare({
    root: $("compare"), decoder, budget: loader.budget / 2, state, series: () => current, all: () => data.series,
    update: () => update(false), onChange: (on) => on && state.layout === 3 && views.apply({ plane: state.plane }),
  });
  boot(early.slug, early.manifestFetch);
}

async function boot(slug, manifestFetch) {
  if (!slug) {
    ui.fatal("No case given: open the viewer from a case page (viewer/?case=<slug>).");
    return;
  }
  try {
    data = await loadManifest(slug, manifestFetch);
  } catch (err) {
    ui.fatal(err.message);
    return;
  }
  const frag = parseFragment(location.hash);
  const view = data.case.view || {};
  const viewSeries = clamp((Number(view.series) || 1) - 1, 0, data.series.length - 1);
  const index = frag.series != null && frag.series < data.series.length ? frag.series : viewSeries;
  const viewSlice = index === viewSeries && Number(view.slice) >= 1 ? Number(view.slice) - 1 : null;
  state.annotations = frag.annotations ?? true;
  state.overlays = frag.overlays ?? true;
  ui.fillCase(data.case, state.revealed);
  ui.fillStrip(data.series, (n) => showSeries(n));
  $("btn-series").hidden = data.series.length < 2; // one series: nothing to pick
  ui.linkHome(new URL(`cases/${slug}/`, SITE_ROOT).href);
  const wide = matchMedia("(min-width: 761px)").matches;
  ui.toggle("btn-series", "strip", wide && data.series.length > 1);
  ui.toggle("btn-case", "panel", wide);
  ui.setPressed($("btn-annotations"), state.annotations);
  showSeries(index, {
    slice: frag.slice ?? viewSlice,
    window: frag.window || (index === viewSeries ? parseWindow(view.window) : null),
  });
  views.apply(frag);
  compare.set(frag.compare?.series ?? null, frag.compare?.offset);
  if (frag.zoom) {
    viewport.zoom = frag.zoom;
    viewport.center = frag.center || null;
  }
  if (frag.measurements) state.measurements = frag.measurements.filter((m) => m.slice < current.frames.length);
  fragment.write();
  update(true);
  if (frag.revealed) setRevealed(true); // a revealed link: the answer comes first
  listenToPage((on) => setRevealed(on));
}

// A read-only handle for tests and the benchmark (not an API for pages).
window.sitegenViewer = {
  stats,
  state: () => ({ ...urlState(), seriesCount: data?.series.length ?? 0 }),
  loaded: () => (current ? loader.loadedCount(current) : 0),
  total: () => (current ? current.frames.length : 0),
  loaderStats: () => ({ ...loader.stats }),
  step: (d) => viewer.step(d),
  setSlice: (i) => setSlice(i),
  render: () => { dirtyImage = true; draw(); },
  pixels: () => loader.entry(current, state.slice).image?.pixels ?? null,
  previewed: () => (current ? loader.previews.count(current) : 0),
  quality: () => stage.dataset.quality || "",
};

