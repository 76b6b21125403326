/**
 * Tasks run one after another per key, in the order they were handed over; tasks of different keys
 * do not wait on each other, and a task starts at once when its key has none under way. A failed
 * task does not stop the next. Nothing is kept of a key once its last task is done. The broker's
 * updates of one client's queue (broker/session-queue.ts) and the web API's writes to one node
 * (web/routes.ts) each go through one.
 */
export class SerialByKey<K> {
  /** Per key, the end of the last task handed over (never rejects); gone once that task is done. */
  readonly #tails = new Map<K, Promise<void>>();

  /** Runs `task` for `key` after the tasks queued for it before; resolves or rejects as it does. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key);
    const done = before ? before.then(task) : task();
    const tail = done.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return done;
  }
}
