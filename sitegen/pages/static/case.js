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
