// Gallery search: filters the server-rendered case list with data/search.json (no server).
// Filters: free text (every word must occur), one modality, tags (a case needs all checked
// ones). The state lives in the query string (?q=&modality=&tag=), so a filtered gallery can
// be shared as a link. Strings are only ever set as text or compared, never parsed as HTML.
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
  const url = new URL("../data/search.json", script.src);

  function checkedTags() {
    return Array.from(form.querySelectorAll('input[name="tag"]:checked')).map((i) => i.value);
  }

  function readQuery() {
    const params = new URLSearchParams(location.search);
    q.value = params.get("q") || "";
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
    checkedTags().forEach((t) => params.append("tag", t));
    const search = params.toString();
    history.replaceState(null, "", search ? "?" + search : location.pathname);
  }

  function apply(index) {
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    const m = modality.value;
    const tags = checkedTags();
    let shown = 0;
    items.forEach((li) => {
      const entry = index.get(li.dataset.slug);
      const ok =
        entry !== undefined &&
        words.every((w) => entry.text.includes(w)) &&
        (!m || entry.modalities.includes(m)) &&
        tags.every((t) => entry.tags.includes(t));
      li.hidden = !ok;
      if (ok) shown += 1;
    });
    count.textContent =
      shown === items.length
        ? items.length + (items.length === 1 ? " case" : " cases")
        : shown + " of " + items.length + " cases";
    empty.hidden = shown !== 0;
  }

  fetch(url)
    .then((response) => {
      if (!response.ok) throw new Error(response.status + " " + url);
      return response.json();
    })
    .then((data) => {
      const index = new Map(data.cases.map((c) => [c.slug, c]));
      readQuery();
      const update = () => {
        apply(index);
        writeQuery();
      };
      form.addEventListener("input", update);
      form.addEventListener("change", update);
      form.addEventListener("submit", (event) => event.preventDefault());
      form.hidden = false;
      apply(index);
    })
    .catch((err) => console.error("sitegen gallery search:", err));
})();
