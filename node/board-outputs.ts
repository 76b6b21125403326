/**
 * Performs a NodeCore's outputs on the board's parts, in order, at the job's time: an LED write
 * costs its digitalWrite on the CPU, a publish, subscribe or unsubscribe goes through PubSubClient's
 * session (a publish of the node's own report starts the echo timer), a drop is told to the sink.
 */
import { assertNever, type NodeId } from "../protocol/index.js";
import type { NodeCore } from "./core.js";
import type { CoreOutput } from "./core-io.js";
import type { Cpu } from "./cpu.js";
import type { EchoTimer } from "./echo-timer.js";
import { countDrop, type NodeEventSink } from "./metrics.js";
import type { PubSubSession } from "./pubsub-session.js";

export interface BoardParts {
  readonly core: NodeCore;
  readonly cpu: Cpu;
  readonly session: PubSubSession;
  readonly echo: EchoTimer;
  readonly sink: NodeEventSink;
  readonly node: NodeId;
  /** The end of the node's own report topic (`/report/<id>`). */
  readonly ownReport: string;
  readonly digitalWriteCycles: number;
}

export class BoardOutputs {
  constructor(private readonly b: BoardParts) {}

  /** Performs `outs` in order; returns when the first LED write finished. */
  apply(outs: readonly CoreOutput[]): number | undefined {
    const b = this.b;
    let ledAt: number | undefined;
    for (const o of outs) {
      switch (o.type) {
        case "led":
          b.cpu.spend(b.digitalWriteCycles);
          ledAt ??= b.cpu.t;
          break;
        case "publish":
          b.session.publish(o.topic, o.payload, o.retain);
          if (o.topic.endsWith(b.ownReport)) b.echo.sent(o.payload, b.cpu.t, b.core.currentStamp);
          break;
        case "subscribe":
          b.session.subscribe(o.topic, o.qos);
          break;
        case "unsubscribe":
          b.session.unsubscribe(o.topic);
          break;
        case "drop":
          countDrop(b.session.stats.drops, o.reason);
          b.sink({ type: "drop", node: b.node, at: b.cpu.t, reason: o.reason, topic: o.topic });
          break;
        default:
          assertNever(o);
      }
    }
    return ledAt;
  }
}
