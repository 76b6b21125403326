/**
 * The body of `GET /api/nodes` without a filter — every node — kept as bytes until the fleet view
 * says something it shows changed. Every page asks for exactly this when its event stream (re)opens,
 * so pages that reconnect together (a wall display and its colleagues after the service restarted,
 * or a network blip) used to cost the fleet's main thread one 5,000-node build and encoding each:
 * about 10 ms of CPU apiece, and 50 of them held the thread — the twins' MQTT included — for over a
 * second. Served from here, each costs about one copy of the bytes.
 */
import type { ConsoleSource } from "../view/source.js";
import { summaryJson } from "./shapes.js";

export class WholeListBody {
  private body: Buffer | undefined;
  private readonly unlisten: (() => void)[];

  constructor(private readonly source: ConsoleSource) {
    const stale = () => {
      this.body = undefined;
    };
    // A source that names changed nodes (`node`) also says `changed`; both, to depend on neither.
    this.unlisten = [source.on("changed", stale), source.on("node", stale)];
  }

  /** `{ total, offset: 0, nodes }` of every node, as the view shows them now. */
  get(): Buffer {
    if (this.body === undefined) {
      const all = this.source.nodes();
      this.body = Buffer.from(
        `{"total":${all.length},"offset":0,"nodes":[${all.map(summaryJson).join(",")}]}`,
      );
    }
    return this.body;
  }

  close(): void {
    for (const u of this.unlisten) u();
    this.body = undefined;
  }
}
