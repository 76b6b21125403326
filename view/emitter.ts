/**
 * A minimal typed emitter for the console's event map, for sources to own one: `on` returns its own
 * unsubscribe, and a throwing listener cannot break the source that emits.
 */
import type { ConsoleEvents, Listener } from "./source.js";

export class ConsoleEmitter {
  private readonly listeners: { [K in keyof ConsoleEvents]: Set<Listener<K>> } = {
    changed: new Set(),
    log: new Set(),
    node: new Set(),
  };

  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof ConsoleEvents>(event: K, ...args: ConsoleEvents[K]): void {
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
