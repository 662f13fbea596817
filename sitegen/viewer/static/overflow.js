// The toolbar fits its width: the controls that do not fit (from the end) move into the
// More menu, in their order, and come back when there is room. Moving the elements keeps
// their listeners and state, so a tool works the same from either place.

const $ = (id) => document.getElementById(id);

export function fitToolbar() {
  const bar = $("toolbar");
  const more = $("btn-more");
  const menu = $("more-menu");
  const open = () => more.getAttribute("aria-expanded") === "true";
  // every control ends inside the bar's padding (scrollWidth would let the last one be cut)
  const fits = () => {
    const end = bar.getBoundingClientRect().right - parseFloat(getComputedStyle(bar).paddingRight);
    return [...bar.children].every((el) => el.hidden || el.getBoundingClientRect().right <= end + 0.5);
  };

  function place() {
    const wasOpen = open();
    for (const item of [...menu.children]) bar.insertBefore(item, more);
    more.hidden = true;
    if (fits()) return close();
    more.hidden = false;
    const items = [...bar.children].filter((el) => el !== more);
    while (!fits() && items.length > 1) {
      menu.prepend(items.pop());
    }
    if (wasOpen) show();
  }

  function show() {
    const box = bar.getBoundingClientRect();
    menu.style.top = `${box.bottom}px`;
    menu.hidden = false;
    more.setAttribute("aria-expanded", "true");
  }

  function close() {
    menu.hidden = true;
    more.setAttribute("aria-expanded", "false");
  }

  more.addEventListener("click", () => (open() ? close() : show()));
  // a tool picked from the menu closes it; a menu (window, frame rate) stays open to choose
  menu.addEventListener("click", (e) => e.target.closest("button") && close());
  document.addEventListener("pointerdown", (e) => {
    if (open() && !menu.contains(e.target) && !more.contains(e.target)) close();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && open()) {
      close();
      more.focus();
    }
  });
  // the bar's width, and each control's own (the window menu widens once its presets are in)
  const watch = new ResizeObserver(() => place());
  for (const el of [bar, ...bar.children]) watch.observe(el);
  place();
}
