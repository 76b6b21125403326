/**
 * A service's stop on SIGINT or SIGTERM, heard for the whole of its run — its start and its stop
 * included (`twinfleet broker`, `twinfleet twins`). The first signal asks for the stop; the service
 * stops cleanly as soon as it can (at once when it comes before the service started anything). One
 * that comes while the stop is under way is told (`again`) and changes nothing: the stop is bounded
 * (a goodbye waits at most a few seconds), and what it does — the last save, removing the lock — is
 * what a second Ctrl-C pressed in impatience must not cut short. Before, the handler was gone once
 * the first signal was heard, and Node's default for the second ended the process at once: the lock
 * left, the exit by the signal, the last save lost when it had not begun.
 */

export type StopSignal = "SIGINT" | "SIGTERM";
const STOPS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

export class StopRequest {
  /** Resolves with the first stop signal (or "abort", the caller's own stop). */
  readonly asked: Promise<StopSignal | "abort">;
  #first: StopSignal | "abort" | undefined;
  #resolve: (signal: StopSignal | "abort") => void = () => {};
  readonly #heard = (signal: StopSignal): void => this.ask(signal);

  /** `again`: told of each signal that comes once the stop was asked for. */
  constructor(private readonly again: (signal: StopSignal, first: StopSignal | "abort") => void) {
    this.asked = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    for (const s of STOPS) process.on(s, this.#heard);
  }

  /** The first stop, once asked for. */
  get first(): StopSignal | "abort" | undefined {
    return this.#first;
  }

  /** Asks for the stop (a signal heard, or one held before this listened: cli/early-hang-ups.ts). */
  ask(signal: StopSignal | "abort"): void {
    if (this.#first === undefined) {
      this.#first = signal;
      this.#resolve(signal);
    } else if (signal !== "abort") this.again(signal, this.#first);
  }

  /** Stops listening: the service is done. */
  release(): void {
    for (const s of STOPS) process.off(s, this.#heard);
  }
}

/** Whether `signal` is one a StopRequest hears. */
export const isStopSignal = (signal: string): signal is StopSignal => STOPS.includes(signal as StopSignal);
