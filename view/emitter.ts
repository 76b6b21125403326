/**
 * A minimal typed emitter for the console's event map, for sources to own one: `on` returns its own
 * unsubscribe, and a throwing listener cannot break the source that emits. With `early`, the log lines
 * emitted while nothing listens to the log (up to that many, the last) go to its first listener: what
 * a source was told as it opened (a twins service's broker restart at its first connection, before the
 * console or the web page listened) reached no log.
 */
import type { ConsoleEvents, Listener, LogLine } from "./source.js";

/** The log lines a source keeps for its first log listener (`ConsoleEmitter`'s `early`). */
export const EARLY_LOG_LINES = 20;

export class ConsoleEmitter {
  private readonly listeners: { [K in keyof ConsoleEvents]: Set<Listener<K>> } = {
    changed: new Set(),
    log: new Set(),
    node: new Set(),
  };

  /** Log lines emitted while nothing listened to the log, for its first listener. */
  private unheard: LogLine[] = [];

  constructor(private readonly early = 0) {}

  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    set.add(listener);
    if (event === "log") for (const line of this.unheard.splice(0)) this.emit("log", line);
    return () => set.delete(listener);
  }

  emit<K extends keyof ConsoleEvents>(event: K, ...args: ConsoleEvents[K]): void {
    if (event === "log" && this.early > 0 && this.listeners.log.size === 0) {
      this.unheard.push(args[0] as LogLine);
      if (this.unheard.length > this.early) this.unheard.shift();
    }
    for (const l of this.listeners[event] as Set<Listener<K>>) {
      try {
        l(...args);
      } catch {
        // A view's bug must not stop the fleet that feeds it; the view has its own error path.
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.changed.size + this.listeners.log.size + this.listeners.node.size;
  }
}
