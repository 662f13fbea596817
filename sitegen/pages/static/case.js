// Case page: a "Copy" button for the embed snippet (the textarea works without it).
"use strict";
(function () {
  const button = document.getElementById("copy-embed");
  const code = document.getElementById("embed-code");
  if (!button || !code || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(code.value);
      button.textContent = "Copied";
    } catch (err) {
      code.select();
      button.textContent = "Press Ctrl-C to copy";
    }
    setTimeout(function () { button.textContent = "Copy"; }, 2000);
  });
})();

// A quiz case: the answer is not in the page. Reveal fetches it (data/answers/<slug>.json,
// the file the viewer reads too) and shows it; the embedded viewer reveals with the page and
// the page with it (one Reveal for both), by messages between the two on this origin.
(function () {
  const details = document.getElementById("reveal");
  const box = document.getElementById("answer");
  if (!details || !box || !details.dataset.answer) return;
  const frame = document.querySelector(".frame iframe");
  let loaded = null;

  function element(tag, text, className) {
    const el = document.createElement(tag);
    if (text) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function section(title, html) {
    const part = element("section");
    part.append(element("h2", title));
    const body = element("div");
    body.innerHTML = html; // build-rendered Markdown, raw HTML off (as the viewer does)
    part.append(body);
    return part;
  }

  function show(answer) {
    const parts = [element("p", answer.title, "answer-title")];
    if (answer.tags.length) {
      const tags = element("p", "", "badges");
      for (const t of answer.tags) tags.append(element("span", t, "badge"));
      parts.push(tags);
    }
    if (answer.findingsHtml) parts.push(section("Findings", answer.findingsHtml));
    if (answer.diagnosis) {
      const diagnosis = element("section");
      diagnosis.append(element("h2", "Diagnosis"), element("p", answer.diagnosis));
      parts.push(diagnosis);
    }
    if (answer.discussionHtml) parts.push(section("Discussion", answer.discussionHtml));
    const byStudy = (answer.studyFindingsHtml || []).filter(Boolean);
    if (byStudy.length) parts.push(section("Findings by study", byStudy.join("")));
    if (answer.referencesHtml) parts.push(section("References", answer.referencesHtml));
    const related = (answer.related || []).filter((slug) => /^[a-z0-9-]+$/.test(slug));
    if (related.length) {
      const part = element("section");
      part.append(element("h2", "Related cases"));
      const list = element("ul", "", "related");
      for (const slug of related) {
        const link = element("a", slug);
        link.href = new URL(`../${slug}/`, location.href).href; // cases/<slug>/ beside this one
        const item = element("li");
        item.append(link);
        list.append(item);
      }
      part.append(list);
      parts.push(part);
    }
    box.replaceChildren(...parts);
  }

  function load() {
    loaded = loaded || fetch(details.dataset.answer).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
    loaded.then(show, (err) => {
      loaded = null;
      box.replaceChildren(element("p", `The answer could not be loaded (${err.message}).`));
    });
  }

  function tellViewer() {
    if (frame && frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "sitegen:reveal", on: details.open }, location.origin);
    }
  }

  details.addEventListener("toggle", () => {
    if (details.open) load();
    tellViewer();
  });
  window.addEventListener("message", (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== location.origin) return;
    const data = event.data || {};
    if (data.type === "sitegen:ready" && details.open) tellViewer();
    if (data.type === "sitegen:reveal" && details.open !== !!data.on) details.open = !!data.on;
  });
})();

// Questions: a multiple-choice answer is checked, and a free-text one compared with the
// model answer, with the answer file fetched only then; what the reader picks or writes is
// kept in this browser (localStorage) and nowhere else.
(function () {
  const section = document.getElementById("questions");
  if (!section || !section.dataset.answer) return;
  const key = (n) => `sitegen:${section.dataset.slug}:q${n}`;
  let loaded = null;

  function store(n, value) {
    try { localStorage.setItem(key(n), value); } catch (err) { /* storage off: fine */ }
  }
  function stored(n) {
    try { return localStorage.getItem(key(n)); } catch (err) { return null; }
  }
  function answers() {
    loaded = loaded || fetch(section.dataset.answer).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
    return loaded.then((a) => a.questions || [], (err) => {
      loaded = null;
      throw err;
    });
  }
  function html(el, markup) {
    const div = document.createElement("div");
    div.innerHTML = markup; // build-rendered Markdown, raw HTML off
    el.append(div);
  }
  function say(form, verdict, parts) {
    const box = form.querySelector(".feedback");
    const p = document.createElement("p");
    p.className = "verdict";
    p.textContent = verdict;
    box.replaceChildren(p);
    for (const markup of parts) if (markup) html(box, markup);
  }

  function check(form, n) {
    const radios = Array.from(form.querySelectorAll('input[type="radio"]'));
    const text = form.querySelector("textarea");
    const picked = radios.find((r) => r.checked);
    if (radios.length && !picked) return say(form, "Pick an answer first.", []);
    answers().then((all) => {
      const q = all[n] || {};
      if (text) return say(form, "A model answer: compare it with yours.", [q.modelHtml]);
      const choice = Number(picked.value);
      store(n, String(choice));
      radios.forEach((r) => {
        const label = r.closest(".option");
        label.classList.toggle("right", Number(r.value) === q.answer);
        label.classList.toggle("wrong", r.checked && Number(r.value) !== q.answer);
      });
      const explain = q.explanationsHtml || [];
      const right = choice === q.answer;
      say(form, right ? "Correct." : `Not quite: the answer is option ${q.answer}.`,
        right ? [explain[choice - 1]] : [explain[choice - 1], explain[q.answer - 1]]);
    }, (err) => say(form, `The answer could not be loaded (${err.message}).`, []));
  }

  section.querySelectorAll("form.question").forEach((form) => {
    const n = Number(form.dataset.question);
    const text = form.querySelector("textarea");
    const before = stored(n);
    if (text) {
      if (before) text.value = before;
      text.addEventListener("input", () => store(n, text.value));
    } else if (before) {
      const radio = form.querySelector(`input[type="radio"][value="${Number(before)}"]`);
      if (radio) radio.checked = true; // the reader's last pick; checked again on request
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      check(form, n);
    });
  });
})();
