/**
 * A live fleet's event-log lines of one kind when many nodes have them at once (`online` and
 * `offline` when a site's power comes back or goes, a broker restart, a sim started; `registered`
 * when a new fleet arrives). Grouped by the rules every node-event log follows
 * (node/node-bursts.ts), with the figures of a 7-line box: the first of a burst is its own line, as
 * for a lone node, and the rest one line when the burst is over (no node for BURST_QUIET_MS), or
 * every BURST_MAX_MS while it lasts: `99 more nodes online within 2.1 s (n-0001, n-0002, n-0003, …
 * 96 more): 100 of 100 nodes online`. Registered and online go one way (a node coming), offline the
 * other. Any other line writes the summary under way first (the source calls `flush`), so the log
 * stays in order. Before, 100 nodes coming back wrote 200 lines (registered, online) within 2 s, and
 * the console's event box (7 lines) and the page's log showed only the last few.
 */
import { extraLines, NodeBursts, namedNodes } from "../node/node-bursts.js";
import type { NodeId } from "../protocol/index.js";
import type { Scheduler } from "../twins/index.js";
import type { ConsoleEmitter } from "./emitter.js";

export type BurstKind = "registered" | "online" | "offline";

/** A pause this long between two nodes of a kind ends the burst: the next node is its own line again. */
export const BURST_QUIET_MS = 1_000;
/** A burst longer than this has its summary written every BURST_MAX_MS while it lasts. */
export const BURST_MAX_MS = 5_000;
/** Nodes a summary names (it counts them all). */
const NAMED = 3;

type Line = { readonly level: "info" | "warn"; readonly text: string };

export class LogBursts {
  private readonly bursts: NodeBursts<BurstKind, Line>;

  /** `events`: the view's, told the lines; `nodes`: the fleet, whose online count a summary ends with. */
  constructor(
    sched: Scheduler,
    events: ConsoleEmitter,
    nodes: () => readonly { readonly online: boolean }[],
  ) {
    const write = (line: Line) => events.emit("log", { t: sched.now(), ...line });
    this.bursts = new NodeBursts<BurstKind, Line>(
      sched,
      {
        oneByOne: 1,
        named: NAMED,
        quietMs: BURST_QUIET_MS,
        maxMs: BURST_MAX_MS,
        // Registered and online come together for a node coming back; offline is the other way.
        opposite: (a, b) => (a === "offline") !== (b === "offline"),
      },
      {
        line: (_, line) => write(line),
        summary: (s) => {
          const within = ((s.lastAt - s.began) / 1000).toFixed(1);
          const all = nodes();
          const online = all.reduce((n, x) => n + (x.online ? 1 : 0), 0);
          const text = `${s.count} more ${s.count === 1 ? "node" : "nodes"} ${s.kind} within ${within} s${extraLines(s)} (${namedNodes(s)}): ${online} of ${all.length} nodes online`;
          write({ level: s.kind === "offline" ? "warn" : "info", text });
        },
      },
    );
  }

  /** Node `id` has a line of `kind`: `line`, written at once unless a burst of its kind is under way. */
  node(kind: BurstKind, id: NodeId, line: Line): void {
    this.bursts.node(kind, id, line);
  }

  /** Writes the summaries under way (before another line, or when the view closes). */
  flush(): void {
    this.bursts.flush();
  }
}
