// Embedded in a small frame (a case page on a phone, a narrow column of a learning
// platform), the viewer shows the image alone: its bars and edge labels would cover most of
// it. The whole image is then a link that opens the viewer on its own page, at the view on
// screen; in a larger frame, or on its own page, nothing changes. (The stage's own resize
// observer redraws the image at its new size.)

const COMPACT = "(max-width: 559px), (max-height: 419px)";

function embedded() {
  try {
    return window.self !== window.top;
  } catch {
    return true; // a cross-origin parent: embedded
  }
}

export function compactWhenSmall() {
  if (!embedded()) return;
  const link = document.getElementById("open-full");
  const query = matchMedia(COMPACT);
  const apply = () => {
    document.body.classList.toggle("compact", query.matches);
    link.hidden = !query.matches;
  };
  link.addEventListener("click", () => { link.href = location.href; }); // the view as it is now
  query.addEventListener("change", apply);
  apply();
}
