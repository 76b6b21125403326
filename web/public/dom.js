// The page's tiny DOM helpers: build elements without a framework, format figures the same way
// everywhere (times, bytes, percentages).

/**
 * Builds an element: h("a", { href: "#/", class: "x", onclick: fn }, "text", child).
 * Attributes named on* become listeners; `null`/`false`/`undefined` attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function ms(v) {
  if (v === undefined || v === null || !Number.isFinite(v)) return "–";
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

/** What a fleet's clock counts from, by the fleet's kind (GET /api/fleet `kind`). */
const CLOCK_START = {
  sim: "the fleet started",
  twins: "this service started",
  monitor: "this monitor started",
};

/**
 * A moment on the fleet's clock (ms since it started) in words, `kind` the fleet's kind. A sim's clock
 * starts with its run; a standalone twins service's with the service, which a page called "the fleet
 * started" though the fleet had run long before; what its --data kept from a run before is before it:
 * that read "-568610.27 ms after the fleet started".
 */
export function sinceStart(v, kind) {
  if (v === undefined || v === null || !Number.isFinite(v)) return "–";
  const start = CLOCK_START[kind] ?? "the start";
  return v < 0 ? `${ms(-v)} before ${start}` : `${ms(v)} after ${start}`;
}

/**
 * A log line's time: a run's lines count from its start (`m:ss`, then hours), a live fleet's (a
 * standalone twins service, `monitor --broker`) are dates, shown as the time of day. A date was
 * shown as hours since 1970: "499060.7 h".
 */
export function logTime(t) {
  if (!Number.isFinite(t)) return "";
  if (t > 1e12) return new Date(t).toLocaleTimeString();
  const s = t / 1000;
  return s < 3600
    ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`
    : `${(s / 3600).toFixed(1)} h`;
}

export function pct(fraction, digits = 1) {
  if (fraction === undefined || fraction === null || !Number.isFinite(fraction)) return "–";
  return `${(fraction * 100).toFixed(digits)} %`;
}

/**
 * A convergence snapshot's share of followers in sync, or "–" while no follower is known (none
 * paired, or none of them reported yet): its fraction is then 1 by convention, and the page used to
 * show "100.0 %" of nothing at a fleet's boot. With every known follower offline (`online` 0: each is
 * judged by its last report), "no follower online": it read "100.0 %" with the whole fleet offline.
 * With none online and all of them not heard since the broker restarted (`unheard`: online only by
 * the status the restarted broker kept), "no follower heard yet": they are not offline. While the
 * broker is away (brokerAway), "broker away".
 */
export function syncShare(c) {
  if (!c || !(c.known > 0)) return "–";
  if (brokerAway(c)) return "broker away";
  if (c.online !== 0) return pct(c.fraction);
  return c.unheard > 0 && c.unheard === c.known ? "no follower heard yet" : "no follower online";
}

/**
 * A live fleet's broker away now (the last of the snapshot's `away` outages has no end): nothing is
 * heard, so the share is the one from before it. It read "100.0 %" in green, and "12 of 12 followers
 * hold…", through a broker killed for minutes.
 */
export function brokerAway(c) {
  const last = c?.away?.at(-1);
  return last !== undefined && last.to === undefined;
}

/**
 * The line under the share: of how many followers, and how many of them could not be asked, offline
 * or not heard since the broker restarted (`unheard`: it counted those offline, beside rows saying
 * they were not heard yet).
 */
export function syncDetail(c) {
  if (!c || !(c.known > 0)) return "no follower known yet: none paired, or none has reported";
  const held = `${int(c.inSync)} of ${int(c.known)} followers`;
  if (brokerAway(c))
    return `broker away, nothing heard: when last heard, ${held} held their sources' newest state`;
  const unheard = c.unheard ?? 0;
  const away = c.online === undefined ? 0 : c.known - c.online - unheard;
  const why = [
    ...(away > 0 && unheard > 0 ? [`${int(away)} offline`] : []),
    ...(unheard > 0 ? [`${int(unheard)} not heard since the broker restarted`] : []),
  ].join(", ");
  if (c.online === 0) {
    const none = unheard === c.known ? "no follower heard yet to judge" : "no follower online to judge";
    return `${none}${why ? ` (${why})` : ""}: when last heard, ${held} held their sources' newest state`;
  }
  const whyAll = unheard > 0 ? why : away > 0 ? `${int(away)} offline` : "";
  return `${held} hold their sources' newest state${whyAll ? ` (${whyAll}: as last heard)` : ""}`;
}

/** What an offline node's `waits` means, for its row's tooltip and label. */
export function waitsText(waits) {
  const what =
    { set: "a set", pairing: "a pairing", "set and pairing": "a set and a pairing" }[waits] ?? waits;
  return `${what} kept for it, carried out when it returns`;
}

export function bytes(v) {
  if (v === undefined || v === null) return "–";
  if (v < 1024) return `${v} B`;
  return `${(v / 1024).toFixed(v < 10_240 ? 2 : 1)} KiB`;
}

export function int(v) {
  return Number.isFinite(v) ? v.toLocaleString("en-US") : "–";
}

/** Sorts ids as people read them: n-2 before n-10. */
export const byId = new Intl.Collator("en", { numeric: true }).compare;
