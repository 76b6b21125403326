/**
 * The probe client of the held question's tests (fleet/joined-held.ts, fleet/held-early.ts): each
 * question published is handed to `answer`, whose reply (undefined: none) is delivered; it counts
 * the questions and keeps the topics subscribed.
 */
import { EventEmitter } from "node:events";
import { NodeId, readHeldAsk } from "../../protocol/index.js";
import type { HeldClient } from "../joined-held.js";

export class FakeClient extends EventEmitter implements HeldClient {
  readonly subscribed: string[] = [];
  asked = 0;
  constructor(private readonly answer: (seq: number, ids: readonly string[]) => string | undefined) {
    super();
  }
  async subscribeAsync(topic: string): Promise<unknown> {
    this.subscribed.push(topic);
    return undefined;
  }
  async unsubscribeAsync(topic: string): Promise<unknown> {
    this.subscribed.splice(this.subscribed.indexOf(topic), 1);
    return undefined;
  }
  async publishAsync(topic: string, payload: string): Promise<unknown> {
    const ask = readHeldAsk(Buffer.from(payload));
    if ("bad" in ask) throw new Error(ask.bad);
    this.asked++;
    const reply = this.answer(ask.seq, ask.ids);
    const back = topic.replace(/\/ask$/, `/held/${ask.token}`);
    if (reply !== undefined) queueMicrotask(() => this.emit("message", back, Buffer.from(reply)));
    return undefined;
  }
}

/** A fleet of 200 nodes, n-0000 to n-0199. */
export const fleet = Array.from({ length: 200 }, (_, i) => NodeId(`n-${String(i).padStart(4, "0")}`));
