/**
 * A wait told at set ages: once it has lasted `firstMs`, then every `againMs` after that, each line
 * due at that age on the scheduler's clock. The broker's and the twins service's start waits
 * (broker/store-open-wait.ts, twins/store-open-wait.ts) looked once a second instead, each look a
 * second after the last one ran: on a host that runs timers a little late the looks drifted, and a
 * first line due at 5 s came up to a second later and said `6 s`; each repeat drifted on from there.
 */
import type { Scheduler, Timer } from "./scheduler.js";

export class WaitTold {
  #timer: Timer | undefined;
  #told = 0;

  constructor(
    private readonly sched: Scheduler,
    /** When the wait began (the scheduler's time). */
    private readonly since: number,
    private readonly firstMs: number,
    private readonly againMs: number,
    /** Tells it: `ms`, how long it has lasted (its real age, the timer's lateness included). */
    private readonly tell: (ms: number) => void,
  ) {
    this.#arm();
  }

  /** Whether it has been told. */
  get told(): boolean {
    return this.#told > 0;
  }

  /** The wait is over: told no more. */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(): void {
    const due = this.since + this.firstMs + this.#told * this.againMs;
    this.#timer = this.sched.at(due, () => {
      this.#told++;
      this.#arm();
      this.tell(this.sched.now() - this.since);
    });
  }
}
