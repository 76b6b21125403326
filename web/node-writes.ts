/**
 * One write at a time per node, in the order they arrived: a write's `If-Match` is checked once the
 * write before it on the node is done, so that the version it names has moved. A command moves the
 * version only when it has gone out (a set after the broker's PUBACK): ten `PUT …/state` with one
 * `If-Match`, sent at once, were each checked before any had moved it, and up to eight of ten, on
 * and off, were answered 200 — the blind overwrite `If-Match` is there to refuse.
 */
export class NodeWrites {
  /** Per node, the end of the last write queued (never rejects); gone once that write is done. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `write` for node `id` after the writes to it queued before; resolves or rejects as it does. */
  run<T>(id: string, write: () => Promise<T>): Promise<T> {
    const done = (this.tails.get(id) ?? Promise.resolve()).then(write);
    const tail = done.then(
      () => {},
      () => {},
    );
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    return done;
  }
}
