/**
 * A service's presence handed over from its predecessor on the same store. A service killed with its
 * broker (kill -9 of both, a power loss) leaves its retained presence on a broker restarted on its
 * store, which publishes the dead client's will only after its `--will-grace` (docs/broker.md): for
 * those 20 s the service started again on the same data directory took its own predecessor for
 * another twins service controlling the fleet, and so did every tool reading the presences
 * (`twinfleet pair`, `sim --broker`). So each service names its presence in the store (the data
 * directory's lock, twins/store.ts) before it publishes it, and the next one, having taken over the
 * lock of a process gone, clears that presence before publishing its own, and says so once.
 */
import type { ResolvedTwinsOptions } from "./options.js";
import { controlTopic } from "./presence.js";
import type { PreviousHolder } from "./store.js";

export class PresenceHandover {
  private left: PreviousHolder | undefined;
  private recorded = false;

  constructor(private readonly opts: ResolvedTwinsOptions) {
    const previous = opts.store.previous;
    // Only a service that holds a presence clears one; the same client id is replaced by its own.
    if (opts.presence && previous !== undefined && previous.clientId !== opts.clientId) this.left = previous;
  }

  /**
   * Before the service's presence is published on a connect: the predecessor's cleared through
   * `publish` (an empty retained message; once acknowledged, never again), and this one's recorded in
   * the store (once). A store that cannot record it (a full disk) leaves the next service telling it
   * as another one, as before.
   */
  async beforePresence(publish: (topic: string) => Promise<unknown>): Promise<void> {
    if (!this.opts.presence) return;
    const left = this.left;
    if (left !== undefined) {
      await publish(controlTopic(this.opts.prefix, left.clientId));
      this.left = undefined;
      this.opts.logger.info(
        { previous: left.clientId, pid: left.pid },
        `twins: cleared the presence of ${left.clientId} (pid ${left.pid}, since ${new Date(left.since).toISOString()}), the twins service this data directory had before, which stopped without a goodbye (kill -9, a power loss): a broker restarted on its store keeps it until its --will-grace runs out, and it is no other twins service`,
      );
    }
    if (this.recorded) return;
    this.recorded = true;
    await this.opts.store
      .holdAs?.(this.opts.clientId, this.opts.startedAt)
      .catch((err: unknown) =>
        this.opts.logger.debug({ err }, "twins: the presence was not recorded in the store"),
      );
  }
}
