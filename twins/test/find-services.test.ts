/**
 * `findTwinsServices` reads every retained presence on the broker, however many there are: a broker
 * (Aedes) sends a new subscription's retained messages one by one after its SUBACK, and the marker
 * that ends the look, published after the SUBACK, can overtake the last of them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { findTwinsServices } from "../presence.js";
import { startTwins } from "../service.js";
import { Fixtures } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

describe("findTwinsServices", () => {
  it("finds every service holding a presence, look after look", async () => {
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = fx.track(await startTwins({ url: b.url, probe: false }), (x) => x.close());
      ids.push(t.clientId);
    }
    ids.sort();
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) counts.push((await findTwinsServices(b.url)).length);
    expect(counts.filter((n) => n !== ids.length)).toEqual([]);
    expect((await findTwinsServices(b.url)).map((s) => s.clientId)).toEqual(ids);
  });
});
