// The view state in the URL fragment, both ways: written (throttled, so a drag or cine does
// not flood the history API) whenever the view changes, and applied when the reader edits
// the fragment or goes back.

import { parseFragment, formatFragment } from "./url.js";

export class FragmentSync {
  constructor(read, apply) {
    this.read = read; // () => the view state to write, or null before there is a view
    this.written = "";
    this.timer = 0;
    window.addEventListener("hashchange", () => {
      if (location.hash === this.written) return;
      if (apply(parseFragment(location.hash))) this.written = location.hash;
    });
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), 120);
  }

  write() {
    const state = this.read();
    if (!state) return;
    const hash = formatFragment(state);
    if (hash === this.written) return;
    this.written = hash;
    history.replaceState(history.state, "", hash);
  }
}
