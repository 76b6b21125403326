/**
 * The convergence figure in a standalone twins service's log: a line when the figure moves, but at
 * most one a second; a figure that moves again within the second is written at its end, the latest
 * only. The service recomputes it every 100 ms while the fleet changes, and a fleet whose presses
 * put followers out of sync for a few milliseconds each wrote ten lines a second (200 nodes at six
 * presses a second: `convergence inSync=184 known=200`, then 200, then 192, …). The web page, the
 * console and `/metrics` show it live.
 */
import type { Logger } from "pino";
import type { Scheduler, Timer } from "../node/scheduler.js";

export const CONVERGENCE_LOG_MS = 1000;

interface Figure {
  readonly inSync: number;
  readonly known: number;
  readonly fraction: number;
}

export class ConvergenceLog {
  private written = "";
  private writtenAt = Number.NEGATIVE_INFINITY;
  private pending: Figure | undefined;
  private timer: Timer | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly scheduler: Scheduler,
  ) {}

  report(r: Figure): void {
    if (this.timer !== undefined) {
      this.pending = r;
      return;
    }
    if (this.scheduler.now() - this.writtenAt >= CONVERGENCE_LOG_MS) {
      this.write(r);
      return;
    }
    this.pending = r;
    this.timer = this.scheduler.at(this.writtenAt + CONVERGENCE_LOG_MS, () => {
      this.timer = undefined;
      this.flush();
    });
  }

  /** Writes a figure held for the second's end (the service stops). */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.flush();
  }

  private flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p !== undefined) this.write(p);
  }

  private write(r: Figure): void {
    const figure = `${r.inSync}/${r.known}`;
    if (figure === this.written) return;
    this.written = figure;
    this.writtenAt = this.scheduler.now();
    this.logger.info({ inSync: r.inSync, known: r.known, fraction: r.fraction }, "convergence");
  }
}
