// The keyboard shortcuts: which key does what. main.js supplies the actions; this module only
// maps keys to them (and leaves keys alone while a field, dialog or button has them).

const KEY_TOOLS = { s: "scroll", w: "window", z: "zoom", p: "pan", l: "length", a: "angle", v: "probe" };

// `on` is { ready(), step(d), first(), last(), zoom(f), resetView(), resetAll(), playPause(),
// series(d), annotations(), overlays(), copyLink(), help(), cancel(), deleteLast(), preset(n),
// tool(name), tools: [names] }
export function listenToKeys(on) {
  document.addEventListener("keydown", (e) => {
    if (!on.ready() || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target.closest && target.closest("input, select, textarea, dialog")) return;
    const onButton = target.closest && target.closest("button, a");
    if (onButton && (e.key === " " || e.key === "Enter")) return;
    const action = actionFor(e.key, on);
    if (!action) return;
    e.preventDefault();
    action();
  });
}

function actionFor(key, on) {
  const actions = {
    ArrowDown: () => on.step(1), ArrowRight: () => on.step(1), j: () => on.step(1),
    ArrowUp: () => on.step(-1), ArrowLeft: () => on.step(-1), k: () => on.step(-1),
    PageDown: () => on.step(10), PageUp: () => on.step(-10),
    Home: on.first, End: on.last,
    "+": () => on.zoom(1.25), "=": () => on.zoom(1.25), "-": () => on.zoom(0.8),
    f: on.resetView, r: on.resetAll, " ": on.playPause,
    "[": () => on.series(-1), "]": () => on.series(1),
    n: on.annotations, o: on.overlays, c: on.copyLink, "?": on.help,
    Escape: on.cancel, Delete: on.deleteLast, Backspace: on.deleteLast,
  };
  if (actions[key]) return actions[key];
  if (/^[1-9]$/.test(key)) return () => on.preset(Number(key) - 1);
  if (KEY_TOOLS[key] && on.tools.includes(KEY_TOOLS[key])) return () => on.tool(KEY_TOOLS[key]);
  return null;
}
