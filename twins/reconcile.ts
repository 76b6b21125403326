/**
 * What the twins service sends a node that is online but not as desired: the pairing commands of a
 * pending desire and a set it never acted on (docs/twins.md, "Pairing" and "Set"). Each command is
 * held back for `holdMs` after it was sent (its answer may simply not have come back yet) unless the
 * node went offline meanwhile; while anything is still outstanding the node is looked at again after
 * a delay that doubles up to 30 s, so a lost answer is retried and a node that never answers is not
 * flooded. A send that fails (the broker away: twins/broker-away.ts) holds nothing back: the node is
 * sent it when it registers again, which it does once the broker is back and the service queries.
 */

import type { Logger } from "pino";
import type { Message, NodeId } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";
import { BrokerUnavailableError } from "./api.js";
import { after, type Scheduler, type Timer } from "./clock.js";
import type { RegistryEffect } from "./effects.js";
import { planPairing } from "./pairing.js";
import type { TwinRegistry } from "./registry.js";

const MAX_RECHECK_MS = 30_000;

export interface ReconcilerDeps {
  readonly registry: TwinRegistry;
  readonly send: (msg: Message) => Promise<void>;
  readonly apply: (effects: readonly RegistryEffect[]) => void;
  /** The service's clock and timers: when a command was sent, when to look again. */
  readonly scheduler: Scheduler;
  readonly holdMs: number;
  /** A re-check that failed (the connection went away mid-send). */
  readonly onError: (err: unknown, node: NodeId) => void;
}

export class Reconciler {
  /** Per node, when each command (by key) was last sent. */
  private readonly sent = new Map<NodeId, Map<string, number>>();
  private readonly rechecks = new Map<NodeId, { timer: Timer; delayMs: number }>();
  private stopped = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Records a command sent to an online node by other means (a set), so it is not repeated at once. */
  markSent(node: NodeId, msg: Message): void {
    this.sentOf(node).set(keyOf(msg), this.deps.scheduler.now());
  }

  /** The node went offline: whatever was in flight to it is lost (clean session). */
  forget(node: NodeId): void {
    this.sent.delete(node);
    this.cancel(node);
  }

  stop(): void {
    this.stopped = true;
    for (const node of [...this.rechecks.keys()]) this.cancel(node);
  }

  /** Reconciles `node` without waiting for it; a failure goes to `onError`. */
  later(node: NodeId): void {
    this.reconcile(node, false).catch((err: unknown) => this.deps.onError(err, node));
  }

  /** Sends what the node is missing; `now` also re-sends what was sent within the hold. */
  async reconcile(node: NodeId, now: boolean): Promise<void> {
    const { registry } = this.deps;
    const twin = registry.get(node);
    if (this.stopped || twin?.presence !== "online") return;
    const commands: Message[] = [];
    if (twin.pairing === "pending") {
      const plan = planPairing(twin.desired.sources, twin.follows);
      for (const source of plan.unfollow) commands.push({ kind: "unsubscribe", node, source });
      for (const source of plan.follow) commands.push({ kind: "subscribe", node, source });
      // As far as the twin knows the node is as desired, but it has not said so: a node never
      // follows itself, so `U1 <its own id>` changes nothing and is answered with its config.
      if (commands.length === 0) commands.push({ kind: "unsubscribe", node, source: node });
    }
    const pending = twin.desired.pendingSet;
    if (pending !== undefined && (twin.reported?.stamp.counter ?? 0) <= pending.counter) {
      const counter = Math.max(registry.maxCounter, pending.counter);
      commands.push({ kind: "state", node, on: pending.on, counter });
    }
    if (commands.length === 0) {
      this.cancel(node);
      return;
    }
    const t = this.deps.scheduler.now();
    const sent = this.sentOf(node);
    let sentAny = false;
    for (const msg of commands) {
      const last = sent.get(keyOf(msg));
      if (!now && last !== undefined && t - last < this.deps.holdMs) continue;
      sent.set(keyOf(msg), t);
      sentAny = true;
      try {
        await this.deps.send(msg);
      } catch (err) {
        // Not sent (the broker away), or not known to have been: nothing to hold back its re-send.
        sent.delete(keyOf(msg));
        throw err;
      }
      if (msg.kind === "state") this.deps.apply(registry.setSent(node, msg.on, msg.counter));
    }
    // Something is still outstanding: look again later, backing off only after a send.
    if (sentAny || !this.rechecks.has(node)) this.recheck(node);
  }

  private recheck(node: NodeId): void {
    const prev = this.rechecks.get(node);
    prev?.timer.cancel();
    const delayMs = prev ? Math.min(prev.delayMs * 2, MAX_RECHECK_MS) : Math.max(this.deps.holdMs, 1);
    const timer = after(this.deps.scheduler, delayMs, () => this.later(node));
    this.rechecks.set(node, { timer, delayMs });
  }

  private cancel(node: NodeId): void {
    const r = this.rechecks.get(node);
    r?.timer.cancel();
    this.rechecks.delete(node);
  }

  private sentOf(node: NodeId): Map<string, number> {
    let m = this.sent.get(node);
    if (!m) {
      m = new Map();
      this.sent.set(node, m);
    }
    return m;
  }
}

function keyOf(msg: Message): string {
  switch (msg.kind) {
    case "subscribe":
    case "unsubscribe":
      return `${msg.kind} ${msg.source}`;
    case "state":
    case "query":
    case "report":
    case "config":
    case "status":
    case "register":
      return msg.kind;
    default:
      return assertNever(msg);
  }
}

/**
 * The service's `onError`: a re-send the broker could not take is tried again when the node registers
 * after it is back.
 */
export function logResendFailure(logger: Logger): (err: unknown, node: NodeId) => void {
  return (err, node) => {
    if (err instanceof BrokerUnavailableError)
      logger.debug({ node, err: err.message }, "twins: re-sending commands waits for the broker");
    else logger.warn({ err, node }, "twins: re-sending commands failed");
  };
}
