/**
 * The console's keys: one table that handles a key press and writes the help screen and the footer's
 * hints, so a key cannot do one thing and be documented as another. Each row is one line of help (its
 * keys, what they do, the source capability they need), maybe a hint for the footer, and binds
 * blessed's key names (a printable key by its character) to what they do through a `KeyContext`,
 * the console's side of the bargain.
 */
import { isNodeId, type NodeId } from "../protocol/index.js";
import type { Capability, ConsoleNode, ConsoleSource, LogLevel } from "../view/source.js";

/** Packet loss steps for `+` / `-`, percent. */
export const LOSS_STEPS = [0, 1, 2, 5, 10, 15, 20, 30, 40, 50, 75, 100] as const;
/** How long the broker stays down after `B`, seconds (the `broker-restart` preset's). */
export const BROKER_DOWN_S = 5;
/** How long every node stays off after `O`, seconds (the `power-outage` preset's). */
export const POWER_OFF_S = 2;
/** The speeds of a virtual-time run for `<` / `>`: virtual seconds per wall second, then flat out. */
export const SPEEDS = [1, 10, 100, "max"] as const;

export type Move = "left" | "right" | "up" | "down" | "page-up" | "page-down" | "first" | "last";

/** What a key may do to the console (app.ts provides it). */
export interface KeyContext {
  readonly source: ConsoleSource;
  quit(): void;
  showHelp(): void;
  move(to: Move): void;
  toggleDetail(): void;
  toggleZoom(): void;
  nextFilter(): void;
  /** The convergence chart's range: the last minutes, or the twins service's last 48 h. */
  toggleRange(): void;
  selected(): ConsoleNode | undefined;
  goTo(id: string): void;
  note(level: LogLevel, text: string): void;
  /**
   * Runs an action if the source offers `cap`, logging `what` and any failure; never throws. What it
   * resolves to is the source's to tell (a pairing deferred is logged by the source).
   */
  act(cap: Capability, what: string, run: () => Promise<unknown>): void;
  /** Asks for a line of text in the prompt line: Enter submits it, Esc cancels. */
  ask(label: string, submit: (value: string) => void): void;
  /** Asks y/n in the prompt line: `y` runs `yes`, any other key cancels. */
  confirm(question: string, yes: () => void): void;
}

export type KeyHandler = (c: KeyContext) => void;

export interface KeyRow {
  /** The keys as the help names them. */
  readonly label: string;
  readonly what: string;
  /** The source capability the keys need, if any. */
  readonly needs?: Capability;
  /** The footer's short form, e.g. `p:press`; shown while the source offers `needs`. */
  readonly hint?: string;
  /** blessed's key name → what the key does. */
  readonly on: Readonly<Record<string, KeyHandler>>;
}

const unavailable = (c: KeyContext, what: string) => c.note("warn", `${what}: not available for this fleet`);

const onNode = (c: KeyContext, cap: Capability, verb: string, run: (id: NodeId) => Promise<unknown>) => {
  const n = c.selected();
  if (n) c.act(cap, `${verb} ${n.id}`, () => run(n.id));
  else c.note("warn", `${verb}: no node selected`);
};

const stepLoss = (c: KeyContext, dir: 1 | -1) => {
  const now = c.source.lossPct() ?? 0;
  const next = dir > 0 ? LOSS_STEPS.find((s) => s > now) : [...LOSS_STEPS].reverse().find((s) => s < now);
  if (next !== undefined) c.act("setLoss", `loss ${next}%`, () => c.source.setLoss(next));
};

/** One step along SPEEDS; a speed set elsewhere steps to its nearest neighbour. */
const stepSpeed = (c: KeyContext, dir: 1 | -1) => {
  const p = c.source.pace?.();
  if (!c.source.capabilities.pace || !p) return unavailable(c, "speed");
  const rank = (s: number | "max") => (s === "max" ? Number.POSITIVE_INFINITY : s);
  const now = rank(p.speed);
  const next = dir > 0 ? SPEEDS.find((s) => rank(s) > now) : [...SPEEDS].reverse().find((s) => rank(s) < now);
  if (next !== undefined) c.source.setPace?.({ speed: next, paused: p.paused });
};

const togglePause = (c: KeyContext) => {
  const p = c.source.pace?.();
  if (!c.source.capabilities.pace || !p) return unavailable(c, "pause");
  c.source.setPace?.({ speed: p.speed, paused: !p.paused });
};

const setLoss = (c: KeyContext) => {
  if (!c.source.capabilities.setLoss) return unavailable(c, "loss");
  c.ask("packet loss %", (v) => {
    const pct = Number(v);
    if (v === "" || !Number.isFinite(pct) || pct < 0 || pct > 100)
      c.note("error", `loss: ${v} is not 0..100`);
    else c.act("setLoss", `loss ${pct}%`, () => c.source.setLoss(pct));
  });
};

const follow = (c: KeyContext, verb: "pair" | "unpair") => {
  const n = c.selected();
  if (!n) return c.note("warn", `${verb}: no node selected`);
  if (!c.source.capabilities[verb]) return unavailable(c, verb);
  c.ask(`${n.id} ${verb === "pair" ? "follows" : "stops following"}`, (s) => {
    if (!isNodeId(s)) return c.note("error", `${verb}: ${JSON.stringify(s)} is not a node id`);
    // As the web API refuses it (404): a typo was stored as a pairing to no node, pending for ever.
    if (verb === "pair" && !inFleet(c.source, s))
      return c.note("error", `pair: there is no node ${s} in this fleet`);
    c.act(verb, `${verb} ${n.id} <- ${s}`, () =>
      verb === "pair" ? c.source.pair(n.id, s) : c.source.unpair(n.id, s),
    );
  });
};

const inFleet = (source: ConsoleSource, id: NodeId): boolean =>
  source.node ? source.node(id) !== undefined : source.nodes().some((n) => n.id === id);

/** A fleet-wide fault: asks first, as it disturbs every node at once; `what` names it in the log. */
const disruptive = (
  c: KeyContext,
  cap: Capability,
  what: string,
  question: string,
  run: () => Promise<void>,
) => {
  if (!c.source.capabilities[cap]) return unavailable(c, what);
  c.confirm(question, () => c.act(cap, what, run));
};

export const KEY_TABLE: readonly KeyRow[] = [
  {
    label: "? F1",
    what: "this help (arrows, PgUp PgDn scroll it; other keys close it)",
    hint: "?:help",
    on: { "?": (c) => c.showHelp(), f1: (c) => c.showHelp() },
  },
  {
    label: "q Ctrl-C",
    what: "quit (a run settles first; again: stop now)",
    hint: "q:quit",
    on: { q: (c) => c.quit(), "C-c": (c) => c.quit() },
  },
  {
    label: "arrows hjkl",
    what: "move the cursor over the fleet",
    hint: "arrows:move",
    on: {
      left: (c) => c.move("left"),
      h: (c) => c.move("left"),
      right: (c) => c.move("right"),
      l: (c) => c.move("right"),
      up: (c) => c.move("up"),
      k: (c) => c.move("up"),
      down: (c) => c.move("down"),
      j: (c) => c.move("down"),
    },
  },
  {
    label: "PgUp PgDn",
    what: "previous / next page (mouse wheel too)",
    on: { pageup: (c) => c.move("page-up"), pagedown: (c) => c.move("page-down") },
  },
  {
    label: "Home End",
    what: "first / last node",
    on: { home: (c) => c.move("first"), end: (c) => c.move("last") },
  },
  {
    label: "Enter d",
    what: "node detail on / off (or click a node)",
    hint: "Enter:detail",
    on: { enter: (c) => c.toggleDetail(), d: (c) => c.toggleDetail() },
  },
  { label: "g", what: "go to a node by id", on: { g: (c) => c.ask("go to node", (id) => c.goTo(id)) } },
  {
    label: "z",
    what: "zoom: one node per cell / whole fleet",
    hint: "z:zoom",
    on: { z: (c) => c.toggleZoom() },
  },
  {
    label: "f",
    what: "filter: all, out of sync, offline, real",
    hint: "f:filter",
    on: { f: (c) => c.nextFilter() },
  },
  {
    label: "m",
    what: "convergence chart: last minutes / last 48 h",
    hint: "m:48h",
    on: { m: (c) => c.toggleRange() },
  },
  {
    label: "P",
    what: "pause / resume virtual time",
    needs: "pace",
    hint: "P:pause",
    on: { P: togglePause },
  },
  {
    label: "< >",
    what: `slower / faster virtual time (${SPEEDS.map((s) => (s === "max" ? "max" : `×${s}`)).join(", ")})`,
    needs: "pace",
    hint: "</>:speed",
    on: { "<": (c) => stepSpeed(c, -1), ">": (c) => stepSpeed(c, 1) },
  },
  {
    label: "p Space",
    what: "press the node's button",
    needs: "press",
    hint: "p:press",
    on: {
      p: (c) => onNode(c, "press", "press", (id) => c.source.press(id)),
      space: (c) => onNode(c, "press", "press", (id) => c.source.press(id)),
    },
  },
  {
    label: "1 0",
    what: "set the node on / off",
    needs: "set",
    on: {
      "1": (c) => onNode(c, "set", "set on", (id) => c.source.set(id, true)),
      "0": (c) => onNode(c, "set", "set off", (id) => c.source.set(id, false)),
    },
  },
  {
    label: "a",
    what: "pair: the node follows a source (asks its id)",
    needs: "pair",
    on: { a: (c) => follow(c, "pair") },
  },
  {
    label: "u",
    what: "unpair: stop following a source (asks its id)",
    needs: "unpair",
    on: { u: (c) => follow(c, "unpair") },
  },
  {
    label: "c",
    what: "power-cycle the node",
    needs: "powerCycle",
    on: { c: (c) => onNode(c, "powerCycle", "power-cycle", (id) => c.source.powerCycle(id)) },
  },
  {
    label: "x",
    what: "pull / plug the node's cable",
    needs: "pullCable",
    on: {
      x: (c) =>
        onNode(c, "pullCable", "cable", (id) =>
          c.source.pullCable(id, !(c.source.detail(id)?.cablePulled ?? false)),
        ),
    },
  },
  {
    label: "r",
    what: "send query (every node re-reports)",
    needs: "query",
    on: { r: (c) => c.act("query", "query", () => c.source.query()) },
  },
  {
    label: "+ -",
    what: "raise / lower the packet loss",
    needs: "setLoss",
    hint: "+/-:loss",
    on: {
      "+": (c) => stepLoss(c, 1),
      "=": (c) => stepLoss(c, 1),
      "-": (c) => stepLoss(c, -1),
      _: (c) => stepLoss(c, -1),
    },
  },
  { label: "L", what: "set the packet loss (asks %)", needs: "setLoss", on: { L: setLoss } },
  {
    label: "B",
    what: `restart the broker, down ${BROKER_DOWN_S} s (asks y/n)`,
    needs: "restartBroker",
    on: {
      B: (c) =>
        disruptive(
          c,
          "restartBroker",
          "broker restart",
          `restart the broker (kill -9, back after ${BROKER_DOWN_S} s)`,
          () => c.source.restartBroker(BROKER_DOWN_S),
        ),
    },
  },
  {
    label: "O",
    what: `cut every node's power for ${POWER_OFF_S} s (asks y/n)`,
    needs: "powerOutage",
    on: {
      O: (c) =>
        disruptive(c, "powerOutage", "power outage", `cut the power of every node for ${POWER_OFF_S} s`, () =>
          c.source.powerOutage(POWER_OFF_S),
        ),
    },
  },
];

/** Every bound key name → its handler; a key bound twice is a mistake in the table. */
export function keyBindings(rows: readonly KeyRow[] = KEY_TABLE): ReadonlyMap<string, KeyHandler> {
  const map = new Map<string, KeyHandler>();
  for (const row of rows) {
    for (const [name, handler] of Object.entries(row.on)) {
      if (map.has(name)) throw new Error(`key ${name} is bound twice (again in "${row.label}")`);
      map.set(name, handler);
    }
  }
  return map;
}
