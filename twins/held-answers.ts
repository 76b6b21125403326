/**
 * The service's answers to the held question (protocol.md §6, "Which nodes a control server holds"):
 * a tool — `twinfleet sim --broker` beside this service — names nodes on
 * `<p>/control/<client id>/ask`, and the service answers with those it holds no twin of (not shown,
 * not controllable from here: past `--max-nodes`, `too-many-nodes`), its `--max-nodes` and how many
 * twins it holds. Only a service holding a presence answers (others are not looked for). A question
 * replayed retained, or malformed, is counted as bad input.
 */
import type { Logger } from "pino";
import {
  encodeHeldAnswer,
  HELD_MAX_NUMBER,
  heldAnswerTopic,
  heldAskTopic,
  type NodeId,
  type Prefix,
  readHeldAsk,
} from "../protocol/index.js";
import type { BadInput } from "./types.js";

export interface HeldAnswerDeps {
  readonly prefix: Prefix;
  readonly clientId: string;
  readonly maxNodes: number;
  readonly logger: Logger;
  /** Whether the service holds a twin of `id`, and how many it holds. */
  holds(id: NodeId): boolean;
  readonly twins: () => number;
  publish(topic: string, payload: string, retain: boolean, what: string): Promise<boolean>;
  bad(input: BadInput): void;
}

export class HeldAnswers {
  /** The topic the service subscribes to (its own questions only). */
  readonly topic: string;

  constructor(private readonly d: HeldAnswerDeps) {
    this.topic = heldAskTopic(d.prefix, d.clientId);
  }

  /** Handles a message on the question topic (true), or leaves any other alone (false). */
  message(topic: string, payload: Uint8Array, retained: boolean): boolean {
    if (topic !== this.topic) return false;
    const { d } = this;
    const ask = readHeldAsk(payload);
    if ("bad" in ask || retained) {
      const detail =
        "bad" in ask
          ? `a held question that cannot be read: ${ask.bad}`
          : "a retained held question, replayed for the subscription: ignored (a question is never retained)";
      d.bad({ reason: "bad-payload", topic, detail });
      return true;
    }
    const answer = encodeHeldAnswer({
      seq: ask.seq,
      maxNodes: Math.min(d.maxNodes, HELD_MAX_NUMBER),
      twins: d.twins(),
      notHeld: ask.ids.filter((id) => !d.holds(id)),
    });
    // The asker waits a bounded time and says "unknown" for what is not answered: nothing to hold back.
    d.publish(heldAnswerTopic(d.prefix, d.clientId, ask.token), answer, false, "held answer").catch(
      (err: unknown) => d.logger.debug({ err }, "twins: a held answer was not sent"),
    );
    return true;
  }
}
