// The page's word that what it shows is not live: while the event stream is not open (the server
// stopped or unreachable, the stream cut, refused), a line under the header says since when and
// why, and the fleet's figures are dimmed (the body's `stale` class). Before, the page went on showing
// every node online and in sync, in green, under a small "reconnecting…", for as long as the server
// was gone.

import { h } from "./dom.js";

/** What is shown, by the stream's state (web/public/api.js `events`). */
const WHY = {
  reconnecting: "the server is not answering",
  busy: "the server keeps as many pages as it can",
  closed: "the server refused the page",
  paused: "the tab was hidden",
};

export function staleNote() {
  const text = h("span", { class: "notice-text" });
  const el = h("div", { class: "stale-note", id: "stale", role: "status", hidden: true }, text);
  let since;
  let opened = false;
  let why = "";
  let ticker;
  const draw = () => {
    const s = Math.max(0, Math.round((Date.now() - since) / 1000));
    const at = new Date(since).toLocaleTimeString();
    text.textContent = opened
      ? `Not live since ${at} (${s} s): ${why}. The fleet is shown as it was then; the page reads it again once the server answers.`
      : `Not connected yet (${s} s): ${why}.`;
  };
  return {
    el,
    /** The stream's state and its detail (the reason), as `events` tells them. */
    set(state, detail) {
      if (state === "open") {
        opened = true;
        since = undefined;
        clearInterval(ticker);
        ticker = undefined;
        el.hidden = true;
        document.body.classList.remove("stale");
        return;
      }
      since ??= Date.now();
      why = `${WHY[state] ?? state}${detail ? ` (${detail})` : ""}`;
      draw();
      ticker ??= setInterval(draw, 1000);
      el.hidden = false;
      document.body.classList.add("stale");
    },
  };
}
