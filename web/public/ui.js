// Shared pieces of the page's interface: the notice line (errors and confirmations, announced to
// screen readers) and the confirmation dialog for actions that change the fleet.

import { h } from "./dom.js";

let notice;
let noticeTimer;

/** The element that shows notices; placed once by the app. */
export function noticeArea() {
  notice = h("div", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  return notice;
}

/**
 * Shows a notice: kind "error" stays until dismissed or replaced, "ok" and "warn" fade after a few
 * seconds unless `stay` (a state that lasts until the next notice replaces it).
 */
export function say(text, kind = "ok", { stay = false } = {}) {
  if (!notice) return;
  clearTimeout(noticeTimer);
  notice.replaceChildren(
    h("span", { class: "notice-text" }, text),
    h(
      "button",
      {
        class: "ghost small",
        type: "button",
        "aria-label": "Dismiss",
        onclick: () => (notice.hidden = true),
      },
      "✕",
    ),
  );
  notice.className = `notice ${kind}`;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  notice.hidden = false;
  if (kind !== "error" && !stay) noticeTimer = setTimeout(() => (notice.hidden = true), 5000);
}

/** Asks before an action; resolves true when confirmed. Escape or Cancel resolves false. */
export function confirmAction(title, text, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title),
      h("p", {}, text),
      h(
        "form",
        { method: "dialog", class: "actions" },
        h("button", { value: "cancel", class: "ghost", type: "submit", autofocus: true }, "Cancel"),
        h("button", { value: "ok", class: "danger", type: "submit" }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
