/**
 * The body of `GET /api/nodes` without a filter — every node — kept as bytes. Every page asks for
 * exactly this when its event stream (re)opens, so pages that reconnect together (a wall display and
 * its colleagues after the service restarted, or a network blip) used to cost the fleet's main thread
 * one 5,000-node build and encoding each: 50 of them held the thread — the twins' MQTT included — for
 * over a second.
 *
 * On a live fleet some node changes every few milliseconds, and the body used to be dropped at each
 * change: almost every read built it anew. Now a view that names the nodes that change (`node`
 * events) keeps its body up to `maxAgeMs` (1 s) past its first change, and remembers which nodes
 * changed since it was built. A page that opens its event stream meanwhile gets those nodes, as they
 * are then, in a `nodes` frame right after `hello` (events.ts, `catchUp`): the list it reads next
 * is this body or a newer one, and what the body misses is in that frame or in the batches after it,
 * so the page ends with the fleet as it is. Too many changes since (more than `maxCatchUp`), or a
 * write through this server (`fresh`: a script that changed a node reads it back changed), and the
 * next read builds the body anew. A view that names no nodes (the demo) drops it at every change.
 */
import type { Scheduler } from "../node/scheduler.js";
import type { ConsoleSource } from "../view/source.js";
import { summaryJson } from "./shapes.js";

/** How long past its first change the whole list may be served as it was built. */
export const LIST_MAX_AGE_MS = 1000;
/** The most nodes changed since the body was built that a new stream is brought forward by. */
export const LIST_MAX_CATCH_UP = 1000;

export class WholeListBody {
  private body: Buffer | undefined;
  private builtAt = 0;
  /** The nodes changed since the body was built (a view with `node` events). */
  private readonly since = new Set<string>();
  /** The view said something changed since the body was built. */
  private moved = false;
  private readonly byName: boolean;
  private readonly unlisten: (() => void)[];
  /** Bodies built (for the tests and the bench). */
  builds = 0;

  constructor(
    private readonly source: ConsoleSource,
    private readonly sched: Scheduler,
    private readonly maxAgeMs = LIST_MAX_AGE_MS,
    private readonly maxCatchUp = LIST_MAX_CATCH_UP,
  ) {
    this.byName = typeof source.node === "function";
    this.unlisten = this.byName
      ? [
          source.on("node", (id) => {
            if (this.body === undefined) return;
            this.since.add(id);
            if (this.since.size > this.maxCatchUp) this.fresh();
          }),
          // Whatever else the view says changed, the body is kept no longer than `maxAgeMs` past it.
          source.on("changed", () => {
            this.moved = true;
          }),
        ]
      : [source.on("changed", () => this.fresh())];
  }

  /** `{ total, offset: 0, nodes }` of every node: as the view shows them now, or at most `maxAgeMs` ago. */
  get(): Buffer {
    if (
      this.body !== undefined &&
      (this.moved || this.since.size > 0) &&
      this.sched.now() - this.builtAt >= this.maxAgeMs
    )
      this.fresh();
    if (this.body === undefined) {
      const all = this.source.nodes();
      this.body = Buffer.from(
        `{"total":${all.length},"offset":0,"nodes":[${all.map(summaryJson).join(",")}]}`,
      );
      this.builtAt = this.sched.now();
      this.builds++;
    }
    return this.body;
  }

  /**
   * The nodes a stream opened now must be brought forward by: those changed since the body the next
   * read may serve was built. A body too old to be served again is dropped instead (nothing to bring).
   */
  catchUp(): string[] {
    if (this.body === undefined || this.since.size === 0) return [];
    if (this.sched.now() - this.builtAt >= this.maxAgeMs) {
      this.fresh();
      return [];
    }
    return [...this.since];
  }

  /** A write through this server is answered: a read after it sees what it changed. */
  written(): void {
    if (this.since.size > 0) this.fresh();
  }

  /** The next read builds the body anew. */
  fresh(): void {
    this.body = undefined;
    this.since.clear();
    this.moved = false;
  }

  close(): void {
    for (const u of this.unlisten) u();
    this.fresh();
  }
}
