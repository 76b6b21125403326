/**
 * A live fleet's event-log lines of one kind when many nodes have them at once (`online` and
 * `offline` when a site's power comes back or goes, a broker restart, a sim started; `registered`
 * when a new fleet arrives): the first of a burst is its own line, as for a lone node, and the rest
 * one line when the burst is over (no node for BURST_QUIET_MS), or every BURST_MAX_MS while it
 * lasts: `99 more nodes online within 2.1 s (n-0001, n-0002, n-0003, … 96 more): 100 of 100 nodes
 * online`. Any other line writes the summary under way first, so the log stays in order; so does a
 * node gone that a summary of nodes come (registered, online) under way counts, or the other way
 * round, and a burst one way held back when one the other way begins (a node's offline line came
 * after another's online, though it went first). A summary of one node is that node's own line.
 * Before, 150 nodes coming online with one of them gone again 0.3 s later wrote `n-0010
 * offline` above `149 more nodes online … (n-0001, n-0002, n-0003, … 146 more)`, which read as
 * n-0010 back online. Before that, 100 nodes coming back wrote 200 lines (registered, online)
 * within 2 s, and the console's event box (7 lines) and the page's log showed only the last few.
 */
import type { NodeId } from "../protocol/index.js";
import type { Scheduler, Timer } from "../twins/index.js";
import type { ConsoleEmitter } from "./emitter.js";

export type BurstKind = "registered" | "online" | "offline";

/** A pause this long between two nodes of a kind ends the burst: the next node is its own line again. */
export const BURST_QUIET_MS = 1_000;
/** A burst longer than this has its summary written every BURST_MAX_MS while it lasts. */
export const BURST_MAX_MS = 5_000;
/** Nodes a summary names (it counts them all). */
const NAMED = 3;

interface Burst {
  /** When the burst began (its first node, a line of its own) and when its last node came. */
  began: number;
  lastAt: number;
  /** The nodes not told yet: counted, the first NAMED named, since when. */
  count: number;
  named: NodeId[];
  /** Every node counted (named or not): one of them with a line of another kind writes the summary first. */
  counted: Set<NodeId>;
  /** The line of the one node counted, written as it is when no other comes (not "1 more node"). */
  alone: Line | undefined;
  since: number;
  timer: Timer | undefined;
}

type Line = { readonly level: "info" | "warn"; readonly text: string };

export class LogBursts {
  private readonly bursts = new Map<BurstKind, Burst>();

  /** `events`: the view's, told the lines; `nodes`: the fleet, whose online count a summary ends with. */
  constructor(
    private readonly sched: Scheduler,
    private readonly events: ConsoleEmitter,
    private readonly nodes: () => readonly { readonly online: boolean }[],
  ) {}

  private write(line: Line): void {
    this.events.emit("log", { t: this.sched.now(), ...line });
  }

  /** Node `id` has a line of `kind`: `line`, written at once unless a burst of its kind is under way. */
  node(kind: BurstKind, id: NodeId, line: Line): void {
    const now = this.sched.now();
    // Registered and online come together for a node coming back; offline is the other way.
    for (const [other, ob] of this.bursts)
      if ((other === "offline") !== (kind === "offline") && ob.counted.has(id)) this.tell(other, ob);
    const b = this.bursts.get(kind);
    if (b === undefined || now - b.lastAt >= BURST_QUIET_MS) {
      if (b !== undefined) this.tell(kind, b);
      // A burst the other way held back is written first: nodes gone are told before others come back.
      for (const [other, ob] of this.bursts)
        if ((other === "offline") !== (kind === "offline")) this.tell(other, ob);
      this.bursts.set(kind, {
        began: now,
        lastAt: now,
        count: 0,
        named: [],
        counted: new Set(),
        alone: undefined,
        since: now,
        timer: undefined,
      });
      this.write(line);
      return;
    }
    b.lastAt = now;
    if (b.count === 0) b.since = now;
    b.count++;
    b.counted.add(id);
    b.alone = b.count === 1 ? line : undefined;
    if (b.named.length < NAMED) b.named.push(id);
    if (now - b.since >= BURST_MAX_MS) {
      this.tell(kind, b);
      return;
    }
    b.timer?.cancel();
    const at = now + BURST_QUIET_MS;
    b.timer = (this.sched.atIdle ?? this.sched.at).call(this.sched, at, () => this.tell(kind, b));
  }

  /** Writes the summaries under way (before another line, or when the view closes). */
  flush(): void {
    for (const [kind, b] of this.bursts) this.tell(kind, b);
  }

  private tell(kind: BurstKind, b: Burst): void {
    b.timer?.cancel();
    b.timer = undefined;
    if (b.count === 0) return;
    if (b.alone !== undefined) {
      const line = b.alone;
      b.count = 0;
      b.named = [];
      b.counted.clear();
      b.alone = undefined;
      this.write(line);
      return;
    }
    const rest = b.count - b.named.length;
    const named = rest > 0 ? `${b.named.join(", ")}, … ${rest} more` : b.named.join(", ");
    const s = ((b.lastAt - b.began) / 1000).toFixed(1);
    const all = this.nodes();
    const online = all.reduce((n, x) => n + (x.online ? 1 : 0), 0);
    const text = `${b.count} more ${b.count === 1 ? "node" : "nodes"} ${kind} within ${s} s (${named}): ${online} of ${all.length} nodes online`;
    b.count = 0;
    b.named = [];
    b.counted.clear();
    b.alone = undefined;
    this.write({ level: kind === "offline" ? "warn" : "info", text });
  }
}
