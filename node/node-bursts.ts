/**
 * Owns how lines of one kind that many nodes have at once are grouped (a site's power cut, a broker
 * restart, a fleet started or paired): the rules every log of node events follows, each log giving
 * its own figures and its own wording. The standalone twins service's log file (cli/burst-log.ts)
 * and the console's and web page's event log (view/log-bursts.ts) both group through it.
 *
 * - The first `oneByOne` nodes of a burst each have their own line, as a lone node does; the rest
 *   are counted in a summary. A burst lasts while its nodes come less than `quietMs` apart.
 * - A summary is written when its kind goes quiet (no node for `quietMs`) or, while the burst
 *   lasts, once it has gathered for `maxMs`.
 * - A summary of one node is that node's own line, not "1 more node".
 * - A summary counts distinct nodes and names each once; a node with several lines in it (its
 *   pairing changed twice) adds to its count of lines (`, 34 lines`).
 * - A burst one way held back is written when a burst the other way begins (`opposite`): the nodes
 *   gone are told before others come back, and the other way round.
 * - A node counted in a summary under way that has a line of the opposite kind has that summary
 *   written before its line: a node back in an `online` burst and gone again within it was written
 *   `offline` above the summary naming it among those back, which read as the node back.
 */
import type { NodeId } from "../protocol/index.js";
import type { Scheduler, Timer } from "./scheduler.js";

/** Where two logs' groupings rightly differ: a log file keeps more lines than a 7-line box. */
export interface BurstRules<Kind extends string> {
  /** Nodes of a burst each on their own line, as a lone node is, before the rest are counted. */
  readonly oneByOne: number;
  /** Nodes a summary names (it counts them all). */
  readonly named: number;
  /** A pause this long between two nodes of a kind ends its burst: the next node is its own line again. */
  readonly quietMs: number;
  /** A summary gathers at most this long while its burst lasts. */
  readonly maxMs: number;
  /** Whether lines of kinds `a` and `b` go opposite ways (a node gone, a node come). Default: any two kinds. */
  readonly opposite?: (a: Kind, b: Kind) => boolean;
}

/** The nodes of a kind a summary counts, and when. */
export interface BurstSummary<Kind extends string> {
  readonly kind: Kind;
  /** Distinct nodes counted. */
  readonly count: number;
  /** Lines counted: more than `count` when a node had several (a node's pairing changed twice). */
  readonly lines: number;
  /** The first `named` of them. */
  readonly named: readonly NodeId[];
  /** When the burst began (its first node, a line of its own). */
  readonly began: number;
  /** When this summary's first and last node came. */
  readonly since: number;
  readonly lastAt: number;
}

/** What a log does with the lines: a node's own, a node counted (still there for a detailed log), a summary. */
export interface BurstSink<Kind extends string, Line> {
  line(kind: Kind, line: Line): void;
  counted?(kind: Kind, line: Line): void;
  summary(s: BurstSummary<Kind>): void;
}

interface Burst<Line> {
  began: number;
  lastAt: number;
  /** Nodes told on their own line in this burst. */
  told: number;
  /** The summary under way: nodes counted, lines counted, the first few named, since when. */
  count: number;
  lines: number;
  named: NodeId[];
  counted: Set<NodeId>;
  /** The line of the one node counted, written as it is when no other comes. */
  alone: Line | undefined;
  since: number;
  summaryLast: number;
  timer: Timer | undefined;
}

export class NodeBursts<Kind extends string, Line> {
  private readonly bursts = new Map<Kind, Burst<Line>>();
  private readonly opposite: (a: Kind, b: Kind) => boolean;

  constructor(
    private readonly sched: Scheduler,
    private readonly rules: BurstRules<Kind>,
    private readonly sink: BurstSink<Kind, Line>,
  ) {
    this.opposite = rules.opposite ?? ((a, b) => a !== b);
  }

  /** Node `id` has a line of `kind`: `line`, written at once unless its kind's burst is past its first nodes. */
  node(kind: Kind, id: NodeId, line: Line): void {
    const now = this.sched.now();
    for (const [other, ob] of this.bursts)
      if (this.opposite(kind, other) && ob.counted.has(id)) this.tell(other, ob);
    let b = this.bursts.get(kind);
    if (b === undefined || now - b.lastAt >= this.rules.quietMs) {
      if (b !== undefined) this.tell(kind, b);
      for (const [other, ob] of this.bursts) if (this.opposite(kind, other)) this.tell(other, ob);
      b = {
        began: now,
        lastAt: now,
        told: 0,
        count: 0,
        lines: 0,
        named: [],
        counted: new Set(),
        alone: undefined,
        since: now,
        summaryLast: now,
        timer: undefined,
      };
      this.bursts.set(kind, b);
    }
    b.lastAt = now;
    if (b.told < this.rules.oneByOne) {
      b.told++;
      this.sink.line(kind, line);
      return;
    }
    this.sink.counted?.(kind, line);
    if (b.lines === 0) b.since = now;
    b.lines++;
    b.summaryLast = now;
    // A node counted again (its pairing changed twice within the burst) is one node, named once.
    if (!b.counted.has(id)) {
      b.count++;
      b.counted.add(id);
      if (b.named.length < this.rules.named) b.named.push(id);
    }
    b.alone = b.lines === 1 ? line : undefined;
    b.timer?.cancel();
    const burst = b;
    const at = Math.min(now + this.rules.quietMs, b.since + this.rules.maxMs);
    b.timer = (this.sched.atIdle ?? this.sched.at).call(this.sched, at, () => this.tell(kind, burst));
  }

  /** Writes the summaries under way (before another line, or when the log stops). */
  flush(): void {
    for (const [kind, b] of this.bursts) this.tell(kind, b);
  }

  private tell(kind: Kind, b: Burst<Line>): void {
    b.timer?.cancel();
    b.timer = undefined;
    if (b.lines === 0) return;
    const summary: BurstSummary<Kind> = {
      kind,
      count: b.count,
      lines: b.lines,
      named: b.named,
      began: b.began,
      since: b.since,
      lastAt: b.summaryLast,
    };
    const alone = b.alone;
    b.count = 0;
    b.lines = 0;
    b.named = [];
    b.counted = new Set();
    b.alone = undefined;
    if (alone !== undefined) this.sink.line(kind, alone);
    else this.sink.summary(summary);
  }
}

/** `, 34 lines` after a summary's count of nodes when some had more than one line; "" otherwise. */
export function extraLines(s: BurstSummary<string>): string {
  return s.lines > s.count ? `, ${s.lines} lines` : "";
}

/** `a, b, c, … 96 more`: the nodes a summary names, and how many more it counts. */
export function namedNodes(s: BurstSummary<string>): string {
  const rest = s.count - s.named.length;
  return rest > 0 ? `${s.named.join(", ")}, … ${rest} more` : s.named.join(", ");
}
