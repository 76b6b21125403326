// The node page's Follows and Followers lists, each with its LEDs and Unpair buttons: built once for
// a list of ids and kept across the page's redraws while the ids stay the same, only the LEDs brought
// up to date. A node with 2,000 followers was built again, 12,000 elements, on every change of its
// twin, back to back while its followers came and went: an Unpair clicked then was pressed on a
// button already replaced, and went nowhere (docs/web.md "The node page").

import { h } from "./dom.js";

/** A function drawing one list (`follows` or `followers`) of the node `id`, keeping what it drew. */
export function pairLists(store, id) {
  /** role -> { key, el, leds: [id, span][] } */
  const kept = new Map();
  const ledClass = (n) => {
    const sn = store.nodes.get(n);
    return `led small ${sn?.on ? "on" : "off"}${sn && !sn.online ? " offline" : ""}`;
  };
  return function pairList(items, role, unpair) {
    const key = `${unpair ? "unpair" : "read"}\n${items.join("\n")}`;
    const was = kept.get(role);
    if (was?.key === key) {
      for (const [n, led] of was.leds) {
        const c = ledClass(n);
        if (led.className !== c) led.className = c;
      }
      return was.el;
    }
    const leds = [];
    const el = items.length
      ? h(
          "ul",
          {
            class: "pairs",
            "aria-label": role === "follows" ? `Nodes ${id} follows` : `Nodes following ${id}`,
          },
          items.map((n) => {
            const led = h("span", { class: ledClass(n), "aria-hidden": "true" });
            leds.push([n, led]);
            return h(
              "li",
              {},
              led,
              h("a", { href: `#/node/${encodeURIComponent(n)}`, class: "mono" }, n),
              unpair
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "ghost small",
                      "aria-label":
                        role === "follows"
                          ? `Unpair: ${id} stops following ${n}`
                          : `Unpair: ${n} stops following ${id}`,
                      onclick: () => (role === "follows" ? unpair(id, n) : unpair(n, id)),
                    },
                    "Unpair",
                  )
                : null,
            );
          }),
        )
      : h("p", { class: "sub" }, role === "follows" ? "Follows no node." : "No node follows it.");
    kept.set(role, { key, el, leds });
    return el;
  };
}
