// The node page's Follows and Followers lists, each row a node's LED, link and Unpair button: kept
// across the page's reads of the node, one row per node id. A read brings the rows up to date in
// place: rows of nodes that joined are added, rows of nodes that left are removed, the rest are the
// same elements with their LEDs set again. A node with 2,000 followers was built again, 12,000
// elements and 2,000 listeners, at every change of its twin, back to back while its followers came
// and went, and the focus on an Unpair button went to the page's body at each (docs/web.md "The node
// page").

import { h } from "./dom.js";

/** The LED's class of node `n` as the store has it (off and unknown look the same). */
function ledClass(store, n) {
  const sn = store.nodes.get(n);
  return `led small ${sn?.on ? "on" : "off"}${sn && !sn.online ? " offline" : ""}`;
}

/**
 * A function drawing one list (`follows` or `followers`) of node `id`: given the ids it holds now and
 * the unpair action (undefined when the fleet cannot unpair), returns the list's element, the same
 * one as before while the list is not empty, its rows kept for the ids it held already.
 */
export function pairLists(store, id) {
  /** role -> { ul, empty, rows: Map<id, { li, led }>, unpair } */
  const kept = new Map();
  /** A focused Unpair button whose row went, and the button of the row now in its place. */
  let handedOn;

  const rowOf = (role, n, unpair) => {
    const led = h("span", { class: ledClass(store, n), "aria-hidden": "true" });
    const li = h(
      "li",
      { "data-node": n },
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
    return { li, led };
  };

  function pairList(items, role, unpair) {
    let k = kept.get(role);
    // A fleet that gains or loses the unpair action draws its rows again, with or without buttons.
    if (!k || k.unpair !== unpair) {
      k = {
        ul: h("ul", {
          class: "pairs",
          "aria-label": role === "follows" ? `Nodes ${id} follows` : `Nodes following ${id}`,
        }),
        empty: h("p", { class: "sub" }, role === "follows" ? "Follows no node." : "No node follows it."),
        rows: new Map(),
        unpair,
      };
      kept.set(role, k);
    }
    const want = new Set(items);
    const focused = document.activeElement;
    let lostFocusAt = -1;
    for (const [n, row] of k.rows)
      if (!want.has(n)) {
        if (focused && row.li.contains(focused))
          lostFocusAt = Array.prototype.indexOf.call(k.ul.children, row.li);
        row.li.remove();
        k.rows.delete(n);
      }
    // The rows in the order of `items`; a row already in its place is not moved (a move takes the
    // focus off its button).
    let at = k.ul.firstChild;
    for (const n of want) {
      let row = k.rows.get(n);
      if (row) {
        const c = ledClass(store, n);
        if (row.led.className !== c) row.led.className = c;
      } else {
        row = rowOf(role, n, unpair);
        k.rows.set(n, row);
      }
      if (row.li === at) at = at.nextSibling;
      else k.ul.insertBefore(row.li, at);
    }
    if (lostFocusAt >= 0) {
      const li = k.ul.children[Math.min(lostFocusAt, k.ul.children.length - 1)];
      handedOn = { from: focused, to: li?.querySelector("button") ?? undefined };
    }
    return k.rows.size ? k.ul : k.empty;
  }

  return Object.assign(pairList, {
    /**
     * Sets the LEDs of the rows of `ids` (undefined: every row) as the store has them now: a
     * follower's LED moves without its source's twin. Every row at every frame cost a source of
     * 2,000 followers a walk of all its rows for each frame that brought any change.
     */
    refresh(ids) {
      for (const k of kept.values())
        for (const n of ids ?? k.rows.keys()) {
          const row = k.rows.get(n);
          const c = row && ledClass(store, n);
          if (row && row.led.className !== c) row.led.className = c;
        }
    },
    /** The button that takes the focus of `el`, an Unpair button whose row was removed, if any. */
    successor(el) {
      return handedOn?.from === el ? handedOn.to : undefined;
    },
  });
}
