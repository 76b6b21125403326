// The node page (#/node/ID): the node's LED with set on/off (sent with the version shown, so a change
// made meanwhile by someone else is refused with 412 instead of overwritten), whom it follows and who
// follows it with pair/unpair, its identity, registration and presence, the simulated CPU/RAM/link
// figures and its last messages. Reloads itself when the event stream says the node changed, keeping
// its pairing lists (pair-list.js) while the same nodes are in them.

import { ApiError, api, explain } from "./api.js";
import { bytes, h, int, sinceStart } from "./dom.js";
import { oneWrite } from "./one-write.js";
import { pairLists } from "./pair-list.js";
import { pendingTexts } from "./pending.js";
import { PENDING_KEPT } from "./store.js";
import { confirmAction, say } from "./ui.js";

const SYNC_TEXT = { "in-sync": "in sync", "out-of-sync": "out of sync", unknown: "not a follower" };

export function nodePage(store, id) {
  const el = h("main", { class: "node-page", id: "main" }, h("p", { class: "sub" }, `Loading ${id}…`));
  let detail;
  /** The store's resets when the node was last read: after another, its version says nothing. */
  let readAtReset = store.resets;
  let loading = false;
  let again = false;
  /**
   * Whether the node could not be read before it was ever shown, and its version in the store then
   * (undefined when the store did not have it): such a page is read again when the store gets the
   * node or a newer version of it.
   */
  let unread = false;
  let unreadVersion;
  // Kept across redraws so that a reload while someone types does not wipe what they typed.
  const followInput = h("input", {
    id: "follow-id",
    type: "text",
    placeholder: "node id",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "follow-help",
  });

  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    readAtReset = store.resets;
    const known = store.nodes.get(id)?.version;
    try {
      const r = await api("GET", `api/nodes/${encodeURIComponent(id)}`);
      detail = { ...r.data, etag: r.etag };
      unread = false;
      draw();
    } catch (e) {
      if (!detail) {
        // A node the fleet does not know yet (a page opened before the node registered) is shown
        // when the event stream brings it: the page said "No node" until it was opened again.
        unread = true;
        unreadVersion = known;
        el.replaceChildren(
          h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Fleet")),
          h(
            "div",
            { class: "card problem", role: "alert" },
            h("h1", {}, e instanceof ApiError && e.status === 404 ? `No node ${id}` : `Cannot show ${id}`),
            h("p", {}, explain(e)),
            e instanceof ApiError && e.status === 404
              ? h("p", { class: "sub" }, `This page shows ${id} as soon as the fleet knows it.`)
              : null,
          ),
        );
      } else say(explain(e), "error");
    } finally {
      loading = false;
      if (again) {
        again = false;
        void load();
      }
    }
  }

  const send = oneWrite(el);
  /** Sends a write (one at a time: web/public/one-write.js); resolves true when the server took it. */
  async function write(what, fn, okText) {
    const sent = await send(what, fn);
    if (sent.refused) return false;
    if ("error" in sent) {
      const e = sent.error;
      if (e instanceof ApiError && e.status === 412) {
        await load();
        say(
          `Another change reached ${id} first (it is now at version ${detail?.version}, LED ${detail?.on ? "on" : "off"}): yours was not applied. Check the page and try again.`,
          "error",
        );
      } else say(explain(e), "error");
      return false;
    }
    const r = sent.answer;
    // 202: stored, not sent yet (the node offline, the broker away): the node is in `node`.
    const node = r?.data?.deferred !== undefined ? r.data.node : r?.data;
    if (node?.id === id) detail = { ...node, etag: r.etag };
    draw();
    if (r?.data?.deferred !== undefined) say(`Not sent yet: ${r.data.deferred}.`, "warn");
    else if (okText) say(okText);
    return true;
  }

  const cap = () => store.fleet?.capabilities ?? {};
  const nodePath = (n) => `api/nodes/${encodeURIComponent(n)}`;

  function setState(on) {
    return write(
      `${id} LED ${on ? "on" : "off"}`,
      () => api("PUT", `${nodePath(id)}/state`, { body: { on }, ifMatch: detail.etag }),
      `Sent: ${id} LED ${on ? "on" : "off"}. The node confirms by reporting it.`,
    );
  }

  function addFollow(input) {
    const src = input.value.trim();
    const problem = !src
      ? "Type the id of the node to follow."
      : src === id
        ? `${id} cannot follow itself.`
        : detail.follows.includes(src)
          ? `${id} already follows ${src}.`
          : store.ids.length && !store.nodes.has(src)
            ? `There is no node "${src}" in this fleet.`
            : !/^[\x21-\x7e]{1,64}$/.test(src)
              ? "A node id is 1 to 64 printable characters without spaces."
              : undefined;
    if (problem) {
      input.setAttribute("aria-invalid", "true");
      say(problem, "error");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    return write(
      `${id} follows ${src}`,
      () => api("PUT", `${nodePath(id)}/follows/${encodeURIComponent(src)}`, { ifMatch: detail.etag }),
      `${id} now follows ${src}.`,
    ).then((taken) => {
      // What was typed stays for another try when the write was not taken.
      if (taken) input.value = "";
    });
  }

  async function unpair(follower, source) {
    if (!(await confirmAction("Unpair", `${follower} will stop following ${source}.`, "Unpair"))) return;
    const ifMatch = follower === id ? detail.etag : undefined;
    return write(
      `${follower} stops following ${source}`,
      () => api("DELETE", `${nodePath(follower)}/follows/${encodeURIComponent(source)}`, { ifMatch }),
      `${follower} no longer follows ${source}.`,
    );
  }

  const drawPairs = pairLists(store, id);
  let drawnFleet;
  function draw() {
    drawnFleet = store.fleet;
    const d = detail;
    const c = cap();
    const focused = document.activeElement;
    const focusId = focused?.id;
    const pairList = (items, role) => drawPairs(items, role, c.unpair ? unpair : undefined);
    const row = (k, v) => [h("dt", {}, k), h("dd", {}, v ?? "–")];
    const sim = d.sim;
    const waits = pendingTexts(d);
    el.replaceChildren(
      h(
        "nav",
        { class: "crumbs" },
        h("a", { href: "#/" }, "← Fleet"),
        h("span", { class: "sub" }, ` / ${d.id}`),
      ),
      h(
        "section",
        { class: "card node-head" },
        h("span", {
          class: `led big ${d.on ? "on" : "off"}${d.online ? "" : " offline"}`,
          id: "node-led",
          "data-on": String(d.on),
          role: "img",
          "aria-label": `LED ${d.on ? "on" : "off"}`,
        }),
        h(
          "div",
          { class: "node-title" },
          h("h1", { class: "mono" }, d.id),
          h(
            "p",
            { class: "badges" },
            h("span", { class: `badge kind-${d.kind ?? "unknown"}` }, d.kind ?? "not registered"),
            h("span", { class: `badge ${d.online ? "is-online" : "is-offline"}` }, presenceOf(d)),
            h("span", { class: `badge sync-${d.sync}` }, SYNC_TEXT[d.sync] ?? d.sync),
            h(
              "span",
              {
                class: "badge mono",
                id: "node-version",
                title: "The twin's version: set and pair are sent with it",
              },
              `v${d.version}`,
            ),
          ),
          waits.set ? h("p", { class: "pending-set warn", id: "pending-set" }, waits.set) : null,
        ),
        h(
          "div",
          { class: "node-actions" },
          h(
            "button",
            {
              type: "button",
              id: "set-on",
              class: d.on ? "" : "primary",
              disabled: !c.set,
              onclick: () => setState(true),
            },
            "Turn on",
          ),
          h(
            "button",
            {
              type: "button",
              id: "set-off",
              class: d.on ? "primary" : "",
              disabled: !c.set,
              onclick: () => setState(false),
            },
            "Turn off",
          ),
          c.press
            ? h(
                "button",
                {
                  type: "button",
                  id: "press",
                  class: "ghost",
                  onclick: () =>
                    write(
                      `${id}'s button press`,
                      () => api("POST", `${nodePath(id)}/press`),
                      `${id}'s button pressed.`,
                    ),
                },
                "Press button",
              )
            : null,
        ),
      ),
      h(
        "div",
        { class: "node-grid" },
        h(
          "section",
          { class: "card", "aria-labelledby": "pair-h" },
          h("h2", { id: "pair-h" }, "Pairing"),
          h("h3", {}, "Follows"),
          pairList(d.follows, "follows"),
          c.pair
            ? h(
                "form",
                {
                  class: "inline",
                  onsubmit: (e) => {
                    e.preventDefault();
                    void addFollow(followInput);
                  },
                },
                h("label", { for: "follow-id" }, "Follow"),
                followInput,
                h("button", { type: "submit", id: "follow-add" }, "Pair"),
              )
            : null,
          c.pair
            ? h("p", { class: "sub", id: "follow-help" }, `${d.id} will mirror the LED of the node you name.`)
            : null,
          h("h3", {}, "Followers"),
          pairList(d.followers, "followers"),
          h(
            "p",
            { class: "sub", id: "node-config" },
            `Configuration v${waits.pairing.configVersion}, `,
            waits.pairing.waiting ? h("strong", { class: "warn" }, waits.pairing.text) : waits.pairing.text,
          ),
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "id-h" },
          h("h2", { id: "id-h" }, "Identity"),
          h(
            "dl",
            {},
            row("Identity", d.identity),
            row("Profile", d.profile),
            row("Firmware", d.firmware),
            row("Presence", presenceOf(d)),
            row(
              "Registered",
              // A node the service knows from its --data registered before the service started.
              d.registeredAt !== undefined
                ? sinceStart(d.registeredAt, store.fleet?.kind)
                : d.kind
                  ? "not since this service started"
                  : "not yet",
            ),
            row("Last seen", lastSeen(d, store.fleet?.kind)),
          ),
        ),
        sim
          ? h(
              "section",
              { class: "card", "aria-labelledby": "sim-h" },
              h("h2", { id: "sim-h" }, "Simulated board"),
              h(
                "dl",
                {},
                row("CPU", sim.cpuPct === undefined ? undefined : `${sim.cpuPct.toFixed(1)} %`),
                row("RAM", bytes(sim.ramBytes)),
                row("Retransmissions", sim.link ? int(sim.link.retransmissions) : undefined),
                row("Timeouts", sim.link ? int(sim.link.timeouts) : undefined),
                row("Reconnects", sim.link ? int(sim.link.reconnects) : undefined),
                row("Cable", sim.cablePulled ? "pulled out" : "plugged in"),
              ),
            )
          : null,
        h(
          "section",
          { class: "card wide", "aria-labelledby": "msg-h" },
          h("h2", { id: "msg-h" }, "Last messages"),
          d.lastMessages?.length
            ? h(
                "ol",
                { class: "messages mono" },
                d.lastMessages.map((m) => h("li", {}, m)),
              )
            : h("p", { class: "sub" }, "None seen yet."),
        ),
      ),
    );
    // A kept list's button (pair-list.js) is the same element, moved: it keeps the focus too; one
    // whose row went hands it to the row now in its place.
    const keep = focused?.isConnected ? focused : drawPairs.successor(focused);
    if (keep?.isConnected) {
      if (keep !== document.activeElement) keep.focus({ preventScroll: true });
    } else if (focusId) document.getElementById(focusId)?.focus();
  }

  void load();
  return {
    el,
    render() {
      if (detail && store.fleet !== drawnFleet) draw();
      // The rows of the nodes changed since the last frame (web/public/app.js), all when some were dropped.
      else if (detail)
        drawPairs.refresh(
          store.pendingTimes.length < PENDING_KEPT ? store.pendingTimes.map(([m]) => m) : undefined,
        );
      const n = store.nodes.get(id);
      // A node read from another stream (the service started again, its versions from 0) is read
      // again: compared with the new versions it would stay as it was until they passed the old.
      // A follower that comes or goes moves its source's version too (its followers are part of its
      // twin), so the node's own version says when its lists changed. The page read the source
      // again whenever a row's node changed as well: a source of 2,000 followers pressing at 2 a
      // minute was read 3 to 9 times a second, its card drawn again each time, the page's main
      // thread busy all the time (docs/web.md "A node with many followers").
      if (detail && (store.resets !== readAtReset || (n && n.version > detail.version))) void load();
      else if (unread && n && (store.resets !== readAtReset || n.version !== unreadVersion)) void load();
    },
    destroy() {},
  };
}

/** When the node last sent anything: the date and time by the fleet's clock, and how far into the run. */
function lastSeen(d, kind) {
  if (d.lastSeen === undefined) return "–";
  if (d.lastSeenAt === undefined) return sinceStart(d.lastSeen, kind);
  return `${new Date(d.lastSeenAt).toLocaleString()} (${sinceStart(d.lastSeen, kind)})`;
}

/** A twin's presence as the page says it: `unheard` in words (docs/web.md). */
function presenceOf(d) {
  return d.presence === "unheard" ? "not heard since the broker restarted" : d.presence;
}
