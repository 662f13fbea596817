// What a case hides until Reveal (a quiz case's title, tags, findings, diagnosis, discussion
// and labels; any case's `reveal = true` annotations) is not in its manifest: it is fetched
// from data/answers/<slug>.json on the first Reveal. Embedded in its case page, the viewer
// reveals with the page and the page with it, by messages on this origin only.

import { SITE_ROOT } from "./manifest.js";

let pending = null;

// Merges the answer into the case (once); rejects with a message to show when it fails.
export function loadAnswer(c) {
  if (!c.answer) return Promise.resolve();
  pending ||= fetch(new URL(c.answer, SITE_ROOT))
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then((a) => {
      c.answer = null; // merged: nothing left to fetch
      Object.assign(c, {
        title: a.title, tags: a.tags || [], findings: a.findings || "",
        diagnosis: a.diagnosis || "", discussionHtml: a.discussionHtml || "",
        annotations: Array.isArray(a.annotations) ? a.annotations : c.annotations,
      });
    })
    .catch((err) => {
      pending = null;
      throw new Error(`The answer could not be loaded (${err.message}).`);
    });
  return pending;
}

const embedded = window.parent !== window;

export function tellPage(on) {
  if (embedded) window.parent.postMessage({ type: "sitegen:reveal", on }, location.origin);
}

// `onReveal(on)` when the page reveals or hides; the page learns that the viewer is ready.
export function listenToPage(onReveal) {
  if (!embedded) return;
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== location.origin) return;
    const data = event.data || {};
    if (data.type === "sitegen:reveal") onReveal(!!data.on);
  });
  window.parent.postMessage({ type: "sitegen:ready" }, location.origin);
}
