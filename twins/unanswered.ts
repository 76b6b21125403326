/**
 * Nodes shown online that no live node stands behind. Presence comes from the retained status, and a
 * broker that lost a node's last will never publishes its `T1 0`: Mosquitto restarted on its
 * persistence keeps the retained `T1 1` but not a clean session's will, a broker whose store was
 * wiped holds no status at all, and a node that died meanwhile (a power cut of the fleet and the
 * broker together) stayed online in the view for ever. A live node answers the query with its
 * register (protocol.md §5), so after each query a twin shown online that has sent nothing since is
 * taken offline `ANSWER_GRACE_MS` later, with one WARN; it is online again as soon as it is heard (its
 * status or its register). The warning tells apart the twins shown `unheard` (a broker restart
 * known: twins/node-presence.ts) from those shown online. The look is dropped when the broker is lost before it: a view not
 * current says nothing of the nodes (docs/twins.md, "A silent broker").
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "./clock.js";
import type { RegistryEffect } from "./effects.js";
import type { TwinsEvents } from "./types.js";

/**
 * How long a live node has to answer a query: the 15 s keepalive's 1.5 × and a second more, the time
 * a broker that kept the node's will takes to publish it for a node gone silent.
 */
export const ANSWER_GRACE_MS = 23_500;

/** How many node ids the warning names before summing the rest. */
const NAMED = 5;

/** What the check needs of the service's options and registry. */
export interface UnansweredOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly url: string;
}

export class UnansweredCheck {
  private timer: Timer | undefined;

  constructor(
    service: EventEmitter<TwinsEvents>,
    private readonly opts: UnansweredOptions,
    /** Takes offline the twins shown online that sent nothing since `since`: their effects. */
    private readonly registry: { unanswered(since: number): RegistryEffect[] },
    private readonly apply: (effects: readonly RegistryEffect[]) => void,
  ) {
    service.on("broker", (up) => {
      if (!up) this.stop();
    });
  }

  /** A query went out now: who has sent nothing `ANSWER_GRACE_MS` later goes offline (a later query restarts it). */
  queried(): void {
    this.stop();
    const since = this.opts.scheduler.now();
    this.timer = after(this.opts.scheduler, ANSWER_GRACE_MS, () => this.look(since));
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private look(since: number): void {
    this.timer = undefined;
    const effects = this.registry.unanswered(since);
    const gone = effects.flatMap((e) => (e.type === "offline" ? [e] : []));
    const nodes = gone.map((e) => e.node).sort();
    if (nodes.length === 0) return;
    const unheard = gone.filter((e) => e.unheard === true).length;
    const one = nodes.length === 1;
    const list =
      nodes.length > NAMED
        ? `${nodes.slice(0, NAMED).join(", ")} and ${nodes.length - NAMED} more`
        : nodes.join(", ");
    this.opts.logger.warn(
      { broker: this.opts.url, nodes: nodes.length, unheard, graceS: ANSWER_GRACE_MS / 1000 },
      `twins: ${nodes.length} ${one ? "node" : "nodes"} ${shownAs(nodes.length, unheard)} did not answer the query within ${ANSWER_GRACE_MS / 1000} s (${list}): ${cause(one, unheard === nodes.length)}; shown offline until heard again`,
    );
    this.apply(effects);
  }
}

/**
 * How the `n` nodes were shown before the look, `unheard` of them not heard since a broker restart
 * (twins/node-presence.ts): they were not shown online, and the warning said they were.
 */
function shownAs(n: number, unheard: number): string {
  if (unheard === 0) return "shown online";
  const since = "not heard since the broker restarted";
  if (unheard === n) return `shown unheard (${since})`;
  return `shown online or unheard (${unheard} ${since})`;
}

/** Why a status stood with no node behind it: known for the unheard ones, a guess for the others. */
function cause(one: boolean, allUnheard: boolean): string {
  const their = one ? "its" : "their";
  if (allUnheard) return `the restarted broker kept ${their} status without ${their} last will`;
  return `the broker kept ${their} status without ${their} last will (restarted on its store, or its store wiped, while ${one ? "it was" : "they were"} gone?)`;
}
