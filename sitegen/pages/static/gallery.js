// Gallery search: filters the server-rendered case list with data/search.json (no server).
// Filters: free text (every word must occur), one modality, tags (a case needs all checked
// ones). The state lives in the query string (?q=&modality=&tag=), so a filtered gallery can
// be shared as a link. A sort order, and pages of 48 cards ("Show more"), keep a gallery of
// a thousand cases quick. Strings are only ever set as text or compared, never parsed as HTML.
"use strict";
(function () {
  const script = document.currentScript;
  const form = document.getElementById("filters");
  const list = document.getElementById("cases");
  if (!script || !form || !list) return;
  const q = document.getElementById("q");
  const modality = document.getElementById("modality");
  const count = document.getElementById("count");
  const empty = document.getElementById("empty");
  const items = Array.from(list.querySelectorAll("li[data-slug]"));
  const sort = document.getElementById("sort");
  const more = document.getElementById("more");
  const PAGE = 48;
  let limit = PAGE;
  const url = new URL("../data/search.json", script.src);

  function checkedTags() {
    return Array.from(form.querySelectorAll('input[name="tag"]:checked')).map((i) => i.value);
  }

  function readQuery() {
    const params = new URLSearchParams(location.search);
    q.value = params.get("q") || "";
    const order = params.get("sort") || "site";
    if (orders[order]) sort.value = order;
    const m = params.get("modality") || "";
    if (Array.from(modality.options).some((o) => o.value === m)) modality.value = m;
    const wanted = params.getAll("tag");
    form.querySelectorAll('input[name="tag"]').forEach((box) => {
      box.checked = wanted.includes(box.value);
    });
  }

  function writeQuery() {
    const params = new URLSearchParams();
    if (q.value.trim()) params.set("q", q.value.trim());
    if (modality.value) params.set("modality", modality.value);
    if (sort.value !== "site") params.set("sort", sort.value);
    checkedTags().forEach((t) => params.append("tag", t));
    const search = params.toString();
    history.replaceState(null, "", search ? "?" + search : location.pathname);
  }

  // The order cards are shown in: the site's own, by public title, or by modality.
  const orders = {
    site: (a, b) => a.position - b.position,
    newest: (a, b) => (b.added || "").localeCompare(a.added || "") || a.position - b.position,
    title: (a, b) => a.title.localeCompare(b.title) || a.position - b.position,
    modality: (a, b) =>
      (a.modalities[0] || "~").localeCompare(b.modalities[0] || "~") || a.title.localeCompare(b.title),
  };

  function arrange(index) {
    const by = orders[sort.value] || orders.site;
    const none = { position: Infinity, title: "", modalities: [] }; // not in the index
    const get = (li) => index.get(li.dataset.slug) || none;
    const sorted = items.slice().sort((x, y) => by(get(x), get(y)));
    list.append(...sorted); // moves the cards; nothing is rebuilt
    return sorted;
  }

  // Only the first `limit` matching cards are shown; "Show more" adds a page of them.
  function apply(index, ordered) {
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    const m = modality.value;
    const tags = checkedTags();
    let shown = 0;
    ordered.forEach((li) => {
      const entry = index.get(li.dataset.slug);
      const ok =
        entry !== undefined &&
        words.every((w) => entry.text.includes(w)) &&
        (!m || entry.modalities.includes(m)) &&
        tags.every((t) => entry.tags.includes(t));
      li.hidden = !ok || shown >= limit;
      if (ok) shown += 1;
    });
    count.textContent =
      shown === items.length
        ? items.length + (items.length === 1 ? " case" : " cases")
        : shown + " of " + items.length + " cases";
    empty.hidden = shown !== 0;
    more.hidden = shown <= limit;
    more.textContent = `Show more (${shown - limit} more)`;
  }

  fetch(url)
    .then((response) => {
      if (!response.ok) throw new Error(response.status + " " + url);
      return response.json();
    })
    .then((data) => {
      const index = new Map(data.cases.map((c, position) => [c.slug, { ...c, position }]));
      readQuery();
      let ordered = arrange(index);
      const update = (event) => {
        if (event && event.target === sort) ordered = arrange(index);
        limit = PAGE; // a new filter starts at its first page
        apply(index, ordered);
        writeQuery();
      };
      more.addEventListener("click", () => {
        limit += PAGE;
        apply(index, ordered);
      });
      form.addEventListener("input", update);
      form.addEventListener("change", update);
      form.addEventListener("submit", (event) => event.preventDefault());
      form.hidden = false;
      apply(index, ordered);
    })
    .catch((err) => console.error("sitegen gallery search:", err));
})();
