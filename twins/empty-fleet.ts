/**
 * A service that sees no node at all: pointed at another broker than the fleet's, or at the right one
 * under another prefix than the fleet's nodes use. It used to show 0 nodes for ever and say nothing.
 * `EMPTY_FLEET_AFTER_MS` after its first connection, a service that has heard of no node looks at the
 * nodes the broker holds under other prefixes (twins/prefix-look.ts) and warns once, naming them; the
 * warning is also a fault (`Twins.fleetUnseen`) until a node is heard, which is logged. The wait is
 * dropped while the broker is lost (nothing heard then says nothing) and starts again when it is back.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Prefix } from "../protocol/index.js";
import { after, type Scheduler, type Timer } from "./clock.js";
import { type PrefixNodes, prefixesShown } from "./prefix-look.js";
import type { TwinsEvents } from "./types.js";
import { ANSWER_GRACE_MS } from "./unanswered.js";

/** How long a connected service may hear of no node before it says so: a live node's query answer's time. */
export const EMPTY_FLEET_AFTER_MS = ANSWER_GRACE_MS;

/** How many other prefixes the warning names. */
const NAMED = 3;

/** The fault a service that has heard of no node shows, since its warning. */
export interface FleetUnseen {
  readonly since: number;
  readonly what: string;
}

export interface EmptyFleetOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly url: string;
  readonly prefix: Prefix;
}

export class EmptyFleetCheck {
  private timer: Timer | undefined;
  private looked = false;
  private unseen: FleetUnseen | undefined;
  private connectedAt: number | undefined;
  /** Counts the waits and looks dropped (the broker lost, the service closed): a look under way is then no answer. */
  private dropped = 0;

  constructor(
    service: EventEmitter<TwinsEvents>,
    private readonly opts: EmptyFleetOptions,
    /** How many nodes the service knows. */
    private readonly size: () => number,
    /** The nodes under other prefixes; undefined when the broker cannot tell. */
    private readonly look: () => Promise<PrefixNodes[] | undefined>,
  ) {
    service.on("broker", (up) => {
      if (!up) this.stop();
    });
    const heard = (twin: { id: string }) => this.heard(twin.id);
    service.on("twin-online", heard);
    service.on("twin-offline", heard);
    service.on("twin-registered", heard);
  }

  get fault(): FleetUnseen | undefined {
    return this.unseen;
  }

  /** Connected and subscribed (again): the wait starts, unless the look was made. */
  ready(): void {
    if (this.looked || this.timer !== undefined) return;
    this.connectedAt ??= this.opts.scheduler.now();
    this.timer = after(this.opts.scheduler, EMPTY_FLEET_AFTER_MS, () => void this.check());
  }

  stop(): void {
    this.dropped++;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (this.size() > 0) return;
    this.looked = true;
    const dropped = this.dropped;
    const others = await this.look();
    if (dropped !== this.dropped) this.looked = false; // looked again once the broker is back
    if (dropped !== this.dropped || this.size() > 0) return;
    const { logger, url, prefix, scheduler } = this.opts;
    const afterS = ((scheduler.now() - (this.connectedAt ?? 0)) / 1000).toFixed(1);
    const head = `twins: no node seen on prefix ${prefix} at ${url} ${afterS} s after connecting`;
    const tail = `; nodes are listed as they come`;
    let line: string;
    let what: string;
    if (others === undefined) {
      line = `${head}: check --broker and --prefix (a node publishes its status on ${prefix}/status/<node id>)${tail}`;
      what = `no node on prefix ${prefix}`;
    } else if (others.length === 0) {
      line = `${head}, and none under any other prefix there: is this the fleet's broker (--broker)? Nodes are listed as they come`;
      what = `no node on prefix ${prefix}, nor on this broker`;
    } else {
      const first = others[0]?.prefix ?? "";
      line = `${head}: the broker holds nodes under ${prefixesShown(others, NAMED)}; if that is the fleet, start the service with --prefix ${first}${tail}`;
      what = `no node on prefix ${prefix} (nodes under ${others
        .map((p) => p.prefix)
        .slice(0, NAMED)
        .join(", ")})`;
    }
    logger.warn({ broker: url, prefix, others: others?.slice(0, NAMED) }, line);
    this.unseen = { since: scheduler.now(), what };
  }

  private heard(node: string): void {
    if (this.unseen === undefined) return;
    const { logger, prefix, scheduler } = this.opts;
    const s = ((scheduler.now() - (this.connectedAt ?? 0)) / 1000).toFixed(1);
    logger.info(
      { node, prefix },
      `twins: first node seen on prefix ${prefix}: ${node}, ${s} s after connecting`,
    );
    this.unseen = undefined;
  }
}
