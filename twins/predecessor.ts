/**
 * A service's presence handed over from its predecessor on the same store. A service killed with its
 * broker (kill -9 of both, a power loss) leaves its retained presence on a broker restarted on its
 * store, which publishes the dead client's will only after its `--will-grace` (docs/broker.md): for
 * those 20 s the service started again on the same data directory took its own predecessor for
 * another twins service controlling the fleet, and so did every tool reading the presences
 * (`twinfleet pair`, `sim --broker`). So each service names its presence in the store (the data
 * directory's lock, twins/store.ts) before it publishes it, and the next one, having taken over the
 * lock of a process gone, clears that presence before publishing its own, and says so once: whether
 * the broker still held it (a broker restarted within its will grace) or had published the will
 * already (it ran alone longer), looked at through a subscription to that presence alone, before the
 * clear. The line used to say the first in both cases.
 */
import { after } from "./clock.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { controlTopic } from "./presence.js";
import { REPLAY_SETTLE_MS } from "./replay-end.js";
import type { PreviousHolder } from "./store.js";

/** What the handover needs to look at the predecessor's presence (an MQTT.js client). */
export interface PresenceLook {
  subscribeAsync(topic: string, opts: { qos: 1 }): Promise<unknown>;
  unsubscribeAsync(topic: string): Promise<unknown>;
}

/**
 * The line told once the predecessor's presence is cleared. `held`: the broker still held it (true),
 * held none (false, its will published already), or not looked at (undefined).
 */
export function handoverLine(left: PreviousHolder, held: boolean | undefined): string {
  const who = `${left.clientId} (pid ${left.pid}, since ${new Date(left.since).toISOString()}), the twins service this data directory had before, which left its lock behind (kill -9, a power loss, or a clean stop that could not remove it: a data directory read-only then, which that stop said)`;
  // A clean stop on a read-only directory cleared its presence (its goodbye) and left its lock: it
  // was told as a kill whose will the broker had published.
  if (held === false)
    return `twins: the presence of ${who} was already cleared: by the broker publishing its will (its --will-grace ran out before this service connected), or by its own goodbye; cleared again, and it is no other twins service`;
  const how =
    held === true
      ? "the broker still held it (a broker restarted on its store keeps it until its --will-grace runs out)"
      : "a broker restarted on its store keeps it until its --will-grace runs out";
  return `twins: cleared the presence of ${who}: ${how}, and it is no other twins service`;
}

export class PresenceHandover {
  private left: PreviousHolder | undefined;
  private recorded = false;
  /** While looking: the predecessor's presence topic, and whether a presence came on it. */
  private looking: { readonly topic: string; held: boolean } | undefined;

  constructor(private readonly opts: ResolvedTwinsOptions) {
    const previous = opts.store.previous;
    // Only a service that holds a presence clears one; the same client id is replaced by its own.
    if (opts.presence && previous !== undefined && previous.clientId !== opts.clientId) this.left = previous;
  }

  /**
   * Before the service's presence is published on a connect: the predecessor's cleared through
   * `publish` (an empty retained message; once acknowledged, never again), and this one's recorded in
   * the store (once). A store that cannot record it (a full disk) leaves the next service telling it
   * as another one, as before. With `look`, whether the broker still held it is looked at first: the
   * broker's replay of that one topic, over when nothing came for REPLAY_SETTLE_MS.
   */
  async beforePresence(publish: (topic: string) => Promise<unknown>, look?: PresenceLook): Promise<void> {
    if (!this.opts.presence) return;
    const left = this.left;
    if (left !== undefined) {
      const topic = controlTopic(this.opts.prefix, left.clientId);
      const held = look ? await this.held(look, topic).catch(() => undefined) : undefined;
      await publish(topic);
      this.left = undefined;
      this.opts.logger.info({ previous: left.clientId, pid: left.pid, held }, handoverLine(left, held));
    }
    if (this.recorded) return;
    this.recorded = true;
    await this.opts.store
      .holdAs?.(this.opts.clientId, this.opts.startedAt)
      .catch((err: unknown) =>
        this.opts.logger.debug({ err }, "twins: the presence was not recorded in the store"),
      );
  }

  /** A message from the broker: true when it was on the presence being looked at (taken here). */
  message(topic: string, payload: Buffer): boolean {
    if (this.looking?.topic !== topic) return false;
    if (payload.length > 0) this.looking.held = true;
    return true;
  }

  private async held(look: PresenceLook, topic: string): Promise<boolean> {
    const looking = { topic, held: false };
    this.looking = looking;
    try {
      await look.subscribeAsync(topic, { qos: 1 });
      await new Promise<void>((done) => after(this.opts.scheduler, REPLAY_SETTLE_MS, done));
      await look.unsubscribeAsync(topic);
      return looking.held;
    } finally {
      this.looking = undefined;
    }
  }
}
