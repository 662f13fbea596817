// The page around the image: title, case panel with Reveal, series strip, window menu,
// messages and help. All text goes in with textContent; only the discussion, which the build
// renders from Markdown with raw HTML off, is set as HTML.

const $ = (id) => document.getElementById(id);

export function showMessage(text, { kind = "error", timeout = 0 } = {}) {
  const box = $("message");
  box.replaceChildren(document.createTextNode(text));
  box.className = `message ${kind}`;
  box.hidden = false;
  clearTimeout(showMessage.timer);
  if (timeout) showMessage.timer = setTimeout(() => { box.hidden = true; }, timeout);
  return box;
}

// The case cannot be shown: one message in the middle; no tools, panel or slider.
export function fatal(text) {
  $("title").textContent = "Case not available";
  $("stage").dataset.error = text;
  const message = $("stage-message");
  message.className = "stage-message";
  message.textContent = text;
  message.hidden = false;
  $("image").hidden = true;
  document.body.classList.add("failed");
}

export function announce(text) {
  $("live").textContent = text;
}

export function fillCase(c, revealed) {
  const hide = c.unknown && !revealed; // nothing of the answer goes into the page before Reveal
  const title = hide ? "Unknown case" : c.title;
  $("title").textContent = title;
  document.title = `${title} · viewer`;
  $("case-title").textContent = title;
  $("case-tags").textContent = hide ? "" : c.tags.join(" · ");
  $("case-history").textContent = c.history;
  $("sec-history").hidden = !c.history;
  $("case-findings").textContent = hide ? "" : c.findings;
  $("sec-findings").hidden = !c.findings || hide;
  $("case-diagnosis").textContent = hide ? "" : c.diagnosis;
  $("sec-diagnosis").hidden = !c.diagnosis || hide;
  $("case-discussion").innerHTML = hide ? "" : c.discussionHtml; // build-rendered Markdown, raw HTML off
  $("sec-discussion").hidden = !c.discussionHtml || hide;
  const hidden = c.annotations.some((a) => a.reveal);
  const button = $("btn-reveal");
  button.hidden = !(c.unknown || hidden || c.answer);
  button.textContent = revealed ? "Hide answer" : c.unknown ? "Reveal diagnosis" : "Reveal annotations";
  button.setAttribute("aria-expanded", String(revealed));
}

export function fillStrip(series, onPick) {
  const strip = $("strip");
  strip.replaceChildren();
  for (const s of series) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.series = String(s.index);
    const label = `${s.index + 1}. ${[s.modality, s.description].filter(Boolean).join(" ")} (${s.frames.length})`;
    button.setAttribute("aria-label", `Series ${label}`);
    if (s.thumbnailUrl) {
      const img = document.createElement("img");
      img.alt = "";
      img.dataset.src = s.thumbnailUrl; // set once the first image is up, not before
      img.width = 96;
      img.height = 96;
      button.append(img);
    }
    const text = document.createElement("span");
    text.textContent = label;
    button.append(text);
    button.addEventListener("click", () => onPick(s.index));
    strip.append(button);
  }
}

export function loadThumbnails() {
  for (const img of document.querySelectorAll("#strip img[data-src]")) {
    img.src = img.dataset.src;
    img.removeAttribute("data-src");
  }
}

export function markSeries(index) {
  for (const b of document.querySelectorAll("#strip button")) {
    b.setAttribute("aria-current", String(Number(b.dataset.series) === index));
  }
}

export function fillPresets(series, onPick) {
  const select = $("preset");
  select.replaceChildren();
  const custom = new Option("custom", "");
  select.append(custom);
  series.windows.forEach((w, n) => {
    const key = n < 9 ? ` (${n + 1})` : "";
    select.append(new Option(`${w.name}${key}`, String(n)));
  });
  select.disabled = series.colour || !series.windows.length;
  select.onchange = () => select.value !== "" && onPick(Number(select.value));
}

export function markPreset(series, window) {
  const select = $("preset");
  const n = series.windows.findIndex((w) => w.width === window.width && w.center === window.center);
  select.value = n >= 0 ? String(n) : "";
}

// The home button opens the case's page (the whole page, when the viewer is embedded in it).
export function linkHome(href) {
  const home = document.querySelector(".bar .home");
  home.href = href;
  home.target = "_top";
  home.setAttribute("aria-label", "Case page");
  home.title = "Case page";
}

export function setPressed(button, on) {
  button.setAttribute("aria-pressed", String(on));
}

// Drawers (case panel, series strip): open beside the image on wide screens, over it on phones.
export function toggle(buttonId, targetId, open) {
  const button = $(buttonId);
  const target = $(targetId);
  const show = open ?? target.hidden;
  target.hidden = !show;
  button.setAttribute("aria-expanded", String(show));
}

export async function copyLink(url) {
  try {
    await navigator.clipboard.writeText(url);
    showMessage("Link copied: it opens this exact view.", { kind: "info", timeout: 2500 });
  } catch {
    // no clipboard (insecure context, permissions): show the link, selected, to copy by hand
    const box = showMessage("Copy this link: ", { kind: "info", timeout: 15000 });
    const input = document.createElement("input");
    input.readOnly = true;
    input.value = url;
    input.setAttribute("aria-label", "Link to this view");
    box.append(input);
    input.focus();
    input.select();
  }
}
