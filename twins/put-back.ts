/**
 * Puts a node's report back on the broker when the broker holds an older one than its twin, or none
 * (twins/broker-copy.ts; protocol §6, "The broker's copy"): the twin's value and stamp, retained, as
 * the node published them. The node adopts it at its sync, or at once if synced (§5.3), and its
 * followers take it as any newer report. A passive service puts nothing back. A put-back the broker
 * cannot take (it is away) waits for the next subscription, which looks at every twin again.
 */
import type { Logger } from "pino";
import { formatStamp, type Message, type NodeId } from "../protocol/index.js";
import type { TwinRegistry } from "./registry.js";

export class PutBack {
  private readonly deps: {
    readonly registry: TwinRegistry;
    readonly send: (msg: Message) => Promise<void>;
    readonly logger: Logger;
    readonly passive: boolean;
  };

  constructor(
    registry: TwinRegistry,
    opts: { readonly logger: Logger; readonly passive: boolean },
    send: (msg: Message) => Promise<void>,
  ) {
    this.deps = { registry, send, logger: opts.logger, passive: opts.passive };
  }

  /** After a subscription: every twin whose report the broker did not replay. */
  all(): void {
    const nodes = this.deps.registry.putBacksDue();
    if (nodes.length === 0 || this.deps.passive) return;
    this.deps.logger.info(
      { nodes: nodes.length, first: nodes.slice(0, 5) },
      "twins: the broker holds no report of nodes it had: putting their twins' back",
    );
    for (const node of nodes) this.one(node, false);
  }

  /** The broker's report of `node` is older than the twin's: the twin's goes back. */
  one(node: NodeId, tell = true): void {
    const reported = this.deps.registry.get(node)?.reported;
    if (reported === undefined || this.deps.passive) return;
    const msg: Message = { kind: "report", node, on: reported.on, stamp: reported.stamp };
    if (tell) {
      this.deps.logger.info(
        { node, stamp: formatStamp(reported.stamp) },
        "twins: the broker holds an older report of the node than its twin (it lost the newer one): putting the twin's back",
      );
    }
    this.deps.send(msg).catch((err: unknown) => {
      this.deps.logger.debug({ node, err: String(err) }, "twins: putting a report back waits for the broker");
    });
  }
}
