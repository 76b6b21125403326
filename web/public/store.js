// The fleet as the page knows it: every node summary by id, in reading order, the filtered view the
// list shows, the counts the header shows, the fleet description, convergence and latency. Fed by
// GET /api/nodes and the event stream; views read it on their own frame.

import { byId } from "./dom.js";

/** The changes kept for the next frame (pendingTimes): past this, the oldest are dropped. */
export const PENDING_KEPT = 20_000;

export class Store {
  nodes = new Map();
  /** Every id, in reading order. */
  ids = [];
  /**
   * How many times every node was replaced (each new event stream's read): the server behind the
   * stream may be a new one, whose versions count from 0 again.
   */
  resets = 0;
  fleet = undefined;
  convergence = { fraction: 1, inSync: 0, known: 0, history: [] };
  latency = undefined;
  log = [];
  filter = { q: "", kind: "", online: "", sync: "" };
  #view = [];
  #viewDirty = true;
  #counts = undefined;
  #listeners = new Set();
  /** Changes waiting for the next frame, for the page's own timing record: [id, on, version, receivedAt, changedAt]. */
  pendingTimes = [];

  /**
   * The nodes the stream brought since it began (its `hello`) while GET /api/nodes is under way: the
   * answer was read before some of them, and must not put a node back to what it was (nor bring back
   * one gone since: `null`). Versions of one stream are comparable; those from before it may be
   * another server's.
   */
  #sinceHello = undefined;

  /** A new event stream began: its batches are kept until the node list read for it replaces every node. */
  streamBegan() {
    this.#sinceHello = new Map();
  }

  /** Replaces every node (the answer to GET /api/nodes), but a newer one the stream brought meanwhile. */
  reset(list) {
    this.resets++;
    const newer = this.#sinceHello ?? new Map();
    this.#sinceHello = undefined;
    this.nodes = new Map(list.map((n) => [n.id, n]));
    for (const [id, n] of newer) {
      if (n === null) {
        this.nodes.delete(id); // gone since the list was read
        continue;
      }
      const read = this.nodes.get(id);
      if (read === undefined || read.version <= n.version) this.nodes.set(id, n);
    }
    this.ids = [...this.nodes.keys()].sort(byId);
    this.#changed(true);
  }

  /** Applies a `nodes` batch: only the nodes whose version moved, and the nodes `gone` from the fleet. */
  apply(list, receivedAt, gone = []) {
    let added = false;
    for (const id of gone) {
      this.#sinceHello?.set(id, null); // the list under way may have been read before it went
      if (this.nodes.delete(id)) added = true; // the ids are listed again
    }
    for (const n of list) {
      const since = this.#sinceHello?.get(n.id);
      if (this.#sinceHello && (since === undefined || since === null || since.version <= n.version))
        this.#sinceHello.set(n.id, n);
      const old = this.nodes.get(n.id);
      if (old && old.version > n.version) continue;
      if (!old) added = true;
      this.nodes.set(n.id, n);
      this.pendingTimes.push([n.id, n.on, n.version, receivedAt, n.changedAt]);
    }
    if (this.pendingTimes.length > PENDING_KEPT)
      this.pendingTimes.splice(0, this.pendingTimes.length - PENDING_KEPT);
    if (added) this.ids = [...this.nodes.keys()].sort(byId);
    this.#changed(true);
  }

  setFilter(patch) {
    Object.assign(this.filter, patch);
    this.#viewDirty = true;
    this.#emit();
  }

  setConvergence(c) {
    const history = this.convergence.history;
    if (c.history) this.convergence = { ...c, history: c.history.slice(-600) };
    else {
      // `online`: with no follower online the point judges last-heard reports only; `unheard`, those
      // not heard since the broker restarted, tell such a stretch from one gone offline (charts.js).
      const p = {
        t: c.t,
        fraction: c.fraction,
        known: c.known,
        ...(c.online !== undefined ? { online: c.online } : {}),
        ...(c.unheard !== undefined ? { unheard: c.unheard } : {}),
      };
      const last = history.at(-1);
      // A frame that only moves the time (the broker away: its band runs to now) adds no point.
      const moved =
        last?.fraction !== p.fraction ||
        last?.known !== p.known ||
        last?.online !== p.online ||
        last?.unheard !== p.unheard;
      if (moved) history.push(p);
      if (history.length > 600) history.splice(0, history.length - 600);
      this.convergence = { ...c, history };
    }
    this.#emit();
  }

  setLatency(l) {
    this.latency = l;
    this.#emit();
  }

  setFleet(f) {
    this.fleet = f;
    this.#emit();
  }

  /** A virtual run's time and pace (a `clock` event): the fleet as it was, at that time. */
  setClock(c) {
    if (!this.fleet) return;
    this.fleet = { ...this.fleet, now: c.now, pace: c.pace };
    this.#emit();
  }

  /**
   * The lines the server kept (a stream's `hello`, oldest first): they take the place of those the
   * page showed from then on, so a stream opened again shows none twice; the page's lines older than
   * the first kept (from a server since restarted, or past what it keeps) stay above them.
   */
  setLog(lines) {
    const first = lines[0];
    const older = first === undefined ? this.log : this.log.filter((l) => l.t < first.t);
    this.log = [...older, ...lines].slice(-200);
    this.#emit();
  }

  addLog(line) {
    this.log.push(line);
    if (this.log.length > 200) this.log.shift();
    this.#emit();
  }

  /** The ids the list shows, filtered. */
  view() {
    if (this.#viewDirty) {
      const { q, kind, online, sync } = this.filter;
      const needle = q.trim().toLowerCase();
      this.#viewDirty = false;
      // No filter: the view is the list of every id itself (the same array until a node is added).
      if (!needle && !kind && !online && !sync) {
        this.#view = this.ids;
        return this.#view;
      }
      const view = this.ids.filter((id) => {
        const n = this.nodes.get(id);
        if (needle && !id.toLowerCase().includes(needle)) return false;
        if (kind && (n.kind ?? "unknown") !== kind) return false;
        if (online && String(n.online) !== online) return false;
        if (sync && n.sync !== sync) return false;
        return true;
      });
      // The same ids as before: the same array, which the list and the map take for unchanged
      // (a new one makes the map clear its canvas and paint every node again). With a filter on,
      // every batch filtered anew, and the map was painted whole 20 times a second.
      if (!sameIds(view, this.#view)) this.#view = view;
    }
    return this.#view;
  }

  counts() {
    if (!this.#counts) {
      const c = { total: 0, online: 0, on: 0, inSync: 0, outOfSync: 0, real: 0, sim: 0, host: 0 };
      for (const n of this.nodes.values()) {
        c.total++;
        if (n.online) c.online++;
        if (n.on) c.on++;
        if (n.sync === "in-sync") c.inSync++;
        else if (n.sync === "out-of-sync") c.outOfSync++;
        if (n.kind) c[n.kind]++;
      }
      this.#counts = c;
    }
    return this.#counts;
  }

  /** Calls `fn` after any change; returns the unsubscribe function. */
  subscribe(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(nodes) {
    if (nodes) {
      this.#viewDirty = true;
      this.#counts = undefined;
    }
    this.#emit();
  }

  #emit() {
    for (const fn of this.#listeners) fn();
  }
}

function sameIds(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
