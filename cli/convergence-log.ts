/**
 * The convergence figure in a standalone twins service's log. At info, the figure the fleet settles
 * at: the best it reached over each 10 s window, written when that changes, so a fleet whose presses
 * put followers out of sync for a few milliseconds each writes nothing, and one that stays behind (a
 * node cut off, a partition) writes a line as it falls and one as it comes back. At debug, the figure
 * as it moves, at most a line a second, the latest of a busy second at its end. The service
 * recomputes it every 100 ms while the fleet changes: a line per move at info was nearly the whole of
 * a steady log (about 86,000 lines a day beside a pressing fleet). The web page, the console and
 * `/metrics` show it live.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";

/** The debug lines' spacing. */
export const CONVERGENCE_LOG_MS = 1000;
/** The window whose best figure is the settled one, written at info when it changes. */
export const CONVERGENCE_SETTLED_MS = 10_000;

export interface Figure {
  readonly inSync: number;
  readonly known: number;
  readonly fraction: number;
}

const text = (f: Figure) => `${f.inSync}/${f.known}`;

/** A figure a second at most (the debug lines). */
class Throttled {
  private written = "";
  private writtenAt = Number.NEGATIVE_INFINITY;
  private pending: Figure | undefined;
  private timer: Timer | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly spacingMs: number,
    private readonly write: (f: Figure) => void,
  ) {}

  report(r: Figure): void {
    if (this.timer !== undefined) {
      this.pending = r;
      return;
    }
    if (this.scheduler.now() - this.writtenAt >= this.spacingMs) {
      this.put(r);
      return;
    }
    this.pending = r;
    this.timer = this.scheduler.at(this.writtenAt + this.spacingMs, () => {
      this.timer = undefined;
      this.flush();
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.flush();
  }

  private flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p !== undefined) this.put(p);
  }

  private put(r: Figure): void {
    if (text(r) === this.written) return;
    this.written = text(r);
    this.writtenAt = this.scheduler.now();
    this.write(r);
  }
}

export class ConvergenceLog {
  private readonly moves: Throttled;
  /** The figure as it stands now, and the best one of the window under way. */
  private latest: Figure | undefined;
  private best: Figure | undefined;
  private settled = "";
  private window: Timer | undefined;
  /** The window under way saw a report. */
  private moved = false;

  constructor(
    private readonly logger: Logger,
    private readonly scheduler: Scheduler,
  ) {
    this.moves = new Throttled(scheduler, CONVERGENCE_LOG_MS, (r) =>
      logger.debug({ inSync: r.inSync, known: r.known, fraction: r.fraction }, "convergence"),
    );
  }

  report(r: Figure): void {
    this.moves.report(r);
    this.latest = r;
    this.moved = true;
    if (this.best === undefined || better(r, this.best)) this.best = r;
    // The first figure, or the first after a quiet spell, is the fleet's as it stands: a fleet that
    // moves again only after a long quiet is judged on its next window.
    if (this.window === undefined) {
      if (this.settled === "") this.writeSettled(r);
      this.openWindow();
    }
  }

  /** Writes the figure held for the second's end and the settled one that differs (the service stops). */
  stop(): void {
    this.window?.cancel();
    this.window = undefined;
    this.moves.stop();
    if (this.best !== undefined) this.writeSettled(this.best);
  }

  private openWindow(): void {
    this.moved = false;
    this.window = after(this.scheduler, CONVERGENCE_SETTLED_MS, () => this.closeWindow());
  }

  private closeWindow(): void {
    this.window = undefined;
    const best = this.best;
    const moved = this.moved;
    // The next window starts from the figure as it stands: a figure that does not move holds.
    this.best = this.latest;
    if (best !== undefined) this.writeSettled(best);
    if (moved) this.openWindow();
  }

  private writeSettled(r: Figure): void {
    if (text(r) === this.settled) return;
    this.settled = text(r);
    this.logger.info(
      { inSync: r.inSync, known: r.known, fraction: r.fraction, settledOverS: CONVERGENCE_SETTLED_MS / 1000 },
      "convergence",
    );
  }
}

/** The nearer to the whole fleet in sync; the later of two equally near (the fleet grew). */
function better(r: Figure, than: Figure): boolean {
  return r.fraction >= than.fraction;
}
