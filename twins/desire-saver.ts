/**
 * Saving the desired state: saves run one at a time, and changes made during a save are written by
 * one more save after it, so a burst of changes costs at most two writes. A save starts once the I/O
 * ready now has been handled, so the changes of one batch of messages (a fleet registering: a
 * thousand confirmations at once) cost one snapshot, not one each. A failed save is logged and the
 * service keeps serving; after `kill` nothing more is written.
 */
import type { Logger } from "pino";
import type { StoredState, TwinsStore } from "./store.js";

export class DesireSaver {
  private saving: Promise<void> = Promise.resolve();
  private queued = false;
  private killed = false;

  constructor(
    private readonly store: TwinsStore,
    private readonly snapshot: () => StoredState,
    private readonly logger: Logger,
  ) {}

  /** The desire changed: write it after any save under way. */
  save(): void {
    if (this.queued || this.killed) return;
    this.queued = true;
    this.saving = this.saving.then(async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.queued = false;
      if (this.killed) return;
      try {
        await this.store.save(this.snapshot());
      } catch (err) {
        this.logger.error({ err }, "twins: saving the desired state failed");
      }
    });
  }

  /** Resolves when no save is pending or under way. */
  async flush(): Promise<void> {
    // A save may queue another; wait until none is pending.
    while (this.queued) await this.saving;
    await this.saving;
  }

  /** Writes nothing more, not even a save already queued. */
  kill(): void {
    this.killed = true;
  }
}
