/**
 * A command of the console or the HTTP API is answered once what it changed is stored. A set for an
 * offline node lives in the store alone (a clean-session node gets no queued command) until the node
 * returns, and the HTTP API answers it 202 "kept and sent when it registers again": it answered before
 * the service's save had even begun, so a kill -9 or a power cut right after the answer lost the set
 * it had accepted. The store here notes what each save that finished held.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { NodeId } from "../../protocol/index.js";
import { wallScheduler } from "../../twins/index.js";
import { startTwins } from "../../twins/service.js";
import { memoryStore, type StoredState, type TwinsStore } from "../../twins/store.js";
import { Fixtures, until, watchTwins } from "../../twins/test/helpers.js";
import { TwinsSource } from "../twins-source.js";

const fx = new Fixtures();
afterEach(() => fx.close());

/** A store in memory that notes the state of the last save that finished. */
function notingStore(): { store: TwinsStore; saved: () => StoredState | undefined } {
  const inner = memoryStore();
  let last: StoredState | undefined;
  const store: TwinsStore = {
    load: () => inner.load(),
    save: async (s) => {
      await inner.save(s);
      last = structuredClone(s);
    },
    close: () => inner.close(),
  };
  return { store, saved: () => last };
}

describe("a command answered", () => {
  it("has its set and pairings stored by then, and a successor on the store has them", async () => {
    fx.url = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (b) => b.close()).url;
    const { store, saved } = notingStore();
    const twins = watchTwins(await startTwins({ url: fx.url, store }));
    const lamp = await fx.node("lamp-1");
    await fx.node("switch-7");
    await until(
      () => twins.get("lamp-1")?.kind !== undefined && twins.get("switch-7")?.kind !== undefined,
      "both registered",
    );
    await lamp.stop();
    await until(() => twins.get("lamp-1")?.presence === "offline", "lamp-1 offline");

    const source = new TwinsSource(twins, "lab", wallScheduler);
    const [lamp1, switch7] = [NodeId("lamp-1"), NodeId("switch-7")];

    expect(await source.set(lamp1, true)).toMatchObject({ deferred: expect.stringMatching(/is offline/) });
    expect(saved()?.nodes["lamp-1"]?.pendingSet).toMatchObject({ on: true });
    await source.pair(lamp1, switch7);
    expect(saved()?.nodes["lamp-1"]?.sources).toEqual(["switch-7"]);
    await source.pair(switch7, lamp1); // online: the commands sent, the pairing pending
    expect(saved()?.nodes["switch-7"]).toMatchObject({ sources: ["lamp-1"], pending: true });

    await twins.kill(); // at once after the answers, as a power cut would
    const next = fx.track(await startTwins({ url: fx.url, store }), (t) => t.close());
    expect(next.get("lamp-1")?.desired).toMatchObject({ sources: ["switch-7"], pendingSet: { on: true } });
  });
});
