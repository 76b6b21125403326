/**
 * What the wills a broker publishes at once are, for the line that tells an operator about them: a
 * fleet's node wills (`<p>/status/<node id>`, protocol.md §1), and the others by client and topic —
 * a control server's presence (`<p>/control/<client id>`, protocol.md §6: a twins service, a `sim`'s
 * own), a fleet run's claim on its ids (`<p>/claim/<token>`, fleet/fleet-claim.ts), or any client's.
 * A count of all of them read as nodes: `published=42` for a fleet of 40.
 */
import { isNodeId } from "../protocol/index.js";

/** At most this many other wills are named one by one; the rest are counted. */
export const OTHER_WILLS_NAMED = 10;

export interface OtherWill {
  readonly clientId: string;
  readonly topic: string;
  /** What the will is, when its topic tells. */
  readonly what?: "control server presence" | "fleet run claim";
}

/** The wills published, in kinds. */
export class WillTally {
  nodes = 0;
  private readonly others: OtherWill[] = [];
  private othersCount = 0;

  add(clientId: string, topic: string): void {
    const levels = topic.split("/");
    const last = levels[2];
    if (levels.length === 3 && levels[1] === "status" && last !== undefined && isNodeId(last)) {
      this.nodes++;
      return;
    }
    this.othersCount++;
    if (this.others.length >= OTHER_WILLS_NAMED) return;
    const what =
      levels.length === 3 && levels[1] === "control"
        ? "control server presence"
        : levels.length === 3 && levels[1] === "claim"
          ? "fleet run claim"
          : undefined;
    this.others.push(what === undefined ? { clientId, topic } : { clientId, topic, what });
  }

  get published(): number {
    return this.nodes + this.othersCount;
  }

  /** The fields of the line: how many, of nodes and of other clients, the others named. */
  fields(): Record<string, unknown> {
    const unnamed = this.othersCount - this.others.length;
    return {
      published: this.published,
      nodes: this.nodes,
      others: this.othersCount,
      ...(this.others.length > 0 ? { otherWills: this.others } : {}),
      ...(unnamed > 0 ? { otherWillsNotNamed: unnamed } : {}),
    };
  }

  /** The line's words: `N nodes' statuses and M other clients' wills (otherWills)`. */
  words(): string {
    const nodes = `${this.nodes} node${this.nodes === 1 ? "'s status" : "s' statuses"}`;
    if (this.othersCount === 0) return nodes;
    const others = `${this.othersCount} other client${this.othersCount === 1 ? "'s will" : "s' wills"}`;
    return `${nodes} and ${others} (otherWills: ${this.kindsOfOthers()})`;
  }

  private kindsOfOthers(): string {
    const counts = new Map<string, number>();
    for (const o of this.others) counts.set(o.what ?? "other", (counts.get(o.what ?? "other") ?? 0) + 1);
    return [...counts].map(([what, n]) => `${n} ${what}`).join(", ");
  }
}
