/**
 * Saving the desired state: saves run one at a time, and changes made during a save are written by
 * one more save after it, so a burst of changes costs at most two writes. A save starts once the I/O
 * ready now has been handled, so the changes of one batch of messages (a fleet registering: a
 * thousand confirmations at once) cost one snapshot, not one each; with `spacing`, a save also waits
 * until `gapMs` after the last one started (a large fleet's snapshot walks every twin). A failed save
 * is logged and the service keeps serving; after `kill` nothing more is written.
 */
import type { Logger } from "pino";
import { hostTurn, type Scheduler } from "./clock.js";
import type { StoredState, TwinsStore } from "./store.js";

export interface SaveSpacing {
  readonly scheduler: Scheduler;
  /** The least time between the starts of two saves, asked before each (0: none). */
  readonly gapMs: () => number;
}

export class DesireSaver {
  private saving: Promise<void> = Promise.resolve();
  private queued = false;
  private killed = false;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: TwinsStore,
    private readonly snapshot: () => StoredState,
    private readonly logger: Logger,
    private readonly spacing?: SaveSpacing,
  ) {}

  /** The desire changed: write it after any save under way. */
  save(): void {
    if (this.queued || this.killed) return;
    this.queued = true;
    this.saving = this.saving.then(async () => {
      await hostTurn();
      const sp = this.spacing;
      const gap = sp?.gapMs() ?? 0;
      if (sp && gap > 0 && sp.scheduler.now() < this.lastStart + gap)
        await new Promise<void>((resolve) => sp.scheduler.at(this.lastStart + gap, resolve));
      if (sp) this.lastStart = sp.scheduler.now();
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
