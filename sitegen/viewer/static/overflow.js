// The toolbar fits its width: the controls that do not fit (from the end) move into the
// More menu, in their order, and come back when there is room. Moving the elements keeps
// their listeners and state, so a tool works the same from either place.

const $ = (id) => document.getElementById(id);

export function fitToolbar() {
  const bar = $("toolbar");
  const more = $("btn-more");
  const menu = $("more-menu");
  const open = () => more.getAttribute("aria-expanded") === "true";

  function place() {
    const wasOpen = open();
    for (const item of [...menu.children]) bar.insertBefore(item, more);
    more.hidden = true;
    if (bar.scrollWidth <= bar.clientWidth) return close();
    more.hidden = false;
    const items = [...bar.children].filter((el) => el !== more);
    while (bar.scrollWidth > bar.clientWidth && items.length > 1) {
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
  new ResizeObserver(place).observe(bar);
  place();
}
