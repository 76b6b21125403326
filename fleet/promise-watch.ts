/**
 * Whether any promise was made or settled since a mark, from V8's promise hooks: how the virtual
 * clock's driver knows that a callback queued no promise continuation, so it need not give the host a
 * turn before virtual time moves on. The hook is installed while at least one watch is started
 * (promise hooks slow every promise down a little) and removed with the last one. One case passes
 * unseen: resolving a promise with another promise (or a thenable) fires no hook at that moment, so
 * code the driver runs must not do that in a callback that makes no other promise.
 */
import { promiseHooks } from "node:v8";

/** Promises made or settled while a hook was installed. */
let events = 0;
let users = 0;
let unhook: (() => void) | undefined;

function touched(): void {
  events++;
}

export class PromiseWatch {
  private at = -1;
  private stopped = false;

  private constructor() {}

  static start(): PromiseWatch {
    if (users++ === 0) {
      const stop = promiseHooks.createHook({ init: touched, settled: touched });
      unhook = () => stop();
    }
    return new PromiseWatch();
  }

  /** From now on, `seen()` says whether a promise was made or settled since. */
  mark(): void {
    this.at = events;
  }

  /** A promise was made or settled since the last mark (or no mark was made). */
  seen(): boolean {
    return this.at !== events;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (--users === 0) {
      unhook?.();
      unhook = undefined;
    }
  }
}
