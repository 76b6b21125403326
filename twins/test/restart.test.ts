/**
 * A twins service that dies without a goodbye (kill), its successor rebuilding the fleet from the
 * broker and the store, the presence other tools detect it by, and a passive observer beside it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { CoreClient } from "../../node/mqtt-node.js";
import { findTwinsServices } from "../presence.js";
import { startTwins, type Twins } from "../service.js";
import { jsonFileStore, memoryStore } from "../store.js";
import type { Twin } from "../types.js";
import { Fixtures, rawClient, until, watchTwins } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

async function setup(): Promise<void> {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
}

describe("a killed twins service", () => {
  it("is rebuilt by its successor from the broker and the store, with nothing desired lost", async () => {
    await setup();
    const store = memoryStore();
    const first = watchTwins(await startTwins({ url: fx.url, store }));
    const ids = Array.from({ length: 36 }, (_, i) => `n${String(i).padStart(2, "0")}`);
    const nodes = new Map<string, CoreClient>();
    // Started together: each waits out its own sync grace, and none depends on another.
    await Promise.all(ids.map(async (id) => nodes.set(id, await fx.node(id))));
    await until(() => ids.every((id) => first.get(id)?.kind !== undefined), "every node registered");
    // A ring of pairs (each follows the next), some presses, and a few nodes offline with pending
    // pairings and sets when the service dies.
    for (const [i, id] of ids.entries()) await first.pair(id, ids[(i + 1) % ids.length] ?? id);
    await until(() => ids.every((id) => first.get(id)?.pairing === "confirmed"), "the ring confirmed");
    nodes.get("n05")?.press();
    await until(() => ids.every((id) => first.get(id)?.reported?.stamp.origin === "n05"), "the press around");
    const away = ["n10", "n20"];
    for (const id of away) await nodes.get(id)?.stop();
    await until(() => away.every((id) => first.get(id)?.presence === "offline"), "two nodes away");
    await first.pair("n10", "n30");
    await first.set("n20", false);
    await first.flush();
    const before = new Map<string, Twin>(first.list().map((t) => [t.id, t]));
    await first.kill();

    const started = performance.now();
    const second = fx.track(watchTwins(await startTwins({ url: fx.url, store })), (t) => t.close());
    await until(
      () =>
        ids.every((id) => {
          const t = second.get(id);
          const was = before.get(id);
          return (
            t !== undefined &&
            t.presence === was?.presence &&
            t.kind === "sim" &&
            t.reported?.stamp.counter === was.reported?.stamp.counter &&
            t.desired.sources.join() === was.desired.sources.join() &&
            // The retained messages arrive one by one: the pairing is judged once the node's
            // own sources have arrived too, which can be after its report on a busy host.
            t.pairing === was.pairing
          );
        }),
      "the registry rebuilt",
    );
    expect(performance.now() - started).toBeLessThan(5000);
    for (const id of ids) {
      const was = before.get(id);
      expect(second.get(id), id).toMatchObject({ desired: was?.desired, pairing: was?.pairing });
    }
    // Whom the online nodes follow is what they said; for n10, away, the successor can only show
    // the config written for it (the first service had seen n10's own).
    for (const id of ids.filter((x) => x !== "n10" && x !== "n30")) {
      const was = before.get(id);
      expect(second.get(id), id).toMatchObject({ follows: was?.follows, followers: was?.followers });
    }
    expect(second.get("n10")).toMatchObject({ pairing: "pending", desired: { sources: ["n11", "n30"] } });
    expect(second.get("n20")?.desired.pendingSet).toEqual({ on: false, counter: 1 });

    // The returning nodes get what was desired for them while the first service was still alive.
    await Promise.all(away.map(async (id) => nodes.set(id, await fx.node(id))));
    await until(() => nodes.get("n10")?.state.sources.length === 2, "n10 follows n11 and n30");
    await until(() => nodes.get("n20")?.state.on === false, "n20 set off");
    await until(() => second.get("n10")?.pairing === "confirmed", "n10's pairing confirmed");
    expect(second.badInput().total).toBe(0);
  });

  it("writes nothing to the store after the kill", async () => {
    await setup();
    const counting = () => {
      const inner = memoryStore();
      const store = {
        ...inner,
        saves: 0,
        save: async (s: Parameters<typeof inner.save>[0]) => {
          store.saves++;
          await inner.save(s);
        },
      };
      return store;
    };
    const killed = counting();
    const live = counting();
    const t = await startTwins({ url: fx.url, store: killed });
    fx.track(await startTwins({ url: fx.url, store: live }), (x) => x.close());
    await t.kill();
    const before = killed.saves;
    const liveBefore = live.saves;
    // A new node's register is saved by a live service: once the one beside it has saved it, the
    // killed one would have too.
    await fx.node("late");
    const saved = new Promise<void>((resolve) => {
      const inner = live.save;
      live.save = async (s) => {
        await inner(s);
        resolve();
      };
    });
    if (live.saves === liveBefore) await saved;
    await t.flush();
    expect(live.saves).toBeGreaterThan(liveBefore);
    expect(killed.saves).toBe(before);
  });
});

describe("twins service presence", () => {
  it("is found while it runs, and gone after a close or a kill", async () => {
    await setup();
    const a = await startTwins({ url: fx.url });
    const b = await startTwins({ url: fx.url });
    const found = await findTwinsServices(fx.url, "tf", { timeoutMs: 2000 });
    expect(found.map((s) => s.clientId)).toEqual([a.clientId, b.clientId].sort());
    for (const s of found) expect(s.since).toBeGreaterThan(Date.UTC(2020, 0, 1));
    // Other fleets and one-shot commands hold no presence here.
    expect(await findTwinsServices(fx.url, "other", { timeoutMs: 2000 })).toEqual([]);
    const oneShot = fx.track(await startTwins({ url: fx.url, presence: false }), (t) => t.close());
    expect((await findTwinsServices(fx.url)).map((s) => s.clientId)).not.toContain(oneShot.clientId);

    await a.close();
    expect((await findTwinsServices(fx.url)).map((s) => s.clientId)).toEqual([b.clientId]);
    // No goodbye: the broker's will clears it. The broker stores a retained message before it
    // forwards it, so once a watcher has the empty will the presence is gone.
    const watcher = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    const cleared = new Promise<void>((resolve) =>
      watcher.on("message", (_topic, payload) => payload.length === 0 && resolve()),
    );
    await watcher.subscribeAsync(`tf/control/${b.clientId}`, { qos: 1 });
    await b.kill();
    await cleared;
    expect(await findTwinsServices(fx.url)).toEqual([]);
  });
});

describe("a twins service killed with its broker", () => {
  it("clears the presence its killed predecessor on the same data directory left, and still finds another service", async () => {
    const brokerDir = await mkdtemp(join(tmpdir(), "twins-cold-broker-"));
    const twinsDir = await mkdtemp(join(tmpdir(), "twins-cold-data-"));
    fx.track(twinsDir, (d) => rm(d, { recursive: true, force: true }));
    fx.track(brokerDir, (d) => rm(d, { recursive: true, force: true }));
    const before = await startBroker({ host: "127.0.0.1", port: 0, dataDir: brokerDir });
    const first = await startTwins({ url: before.url, store: await jsonFileStore(twinsDir) });
    // A genuinely different service on the same fleet, which outlives the outage (another host).
    const other = fx.track(await startTwins({ url: before.url, clientId: "tf-twins-other" }), (t) =>
      t.close(),
    );
    expect((await findTwinsServices(before.url)).map((s) => s.clientId)).toEqual(
      [first.clientId, other.clientId].sort(),
    );
    // The power goes: the broker dies first (no will published), then the service.
    await before.kill();
    await first.kill();
    const after = fx.track(
      await startBroker({ host: "127.0.0.1", port: before.port, dataDir: brokerDir }),
      (b) => b.close(),
    );
    // The broker restarted on its store holds the dead service's presence until its will grace.
    expect((await findTwinsServices(after.url)).map((s) => s.clientId)).toContain(first.clientId);
    const started = performance.now();
    const second = fx.track(await startTwins({ url: after.url, store: await jsonFileStore(twinsDir) }), (t) =>
      t.close(),
    );
    // The other reconnects by itself (every second) and publishes its presence again.
    await expect
      .poll(async () => (await findTwinsServices(after.url)).map((s) => s.clientId), { timeout: 5000 })
      .toContain(other.clientId);
    const found = (await findTwinsServices(after.url)).map((s) => s.clientId);
    expect(found).toEqual([second.clientId, other.clientId].sort());
    // Well within the broker's 20 s will grace: the service cleared it, not the will.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe("a passive twins service", () => {
  it("builds the same view as the controller beside it, and publishes nothing", async () => {
    await setup();
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    const published: string[] = [];
    raw.on("message", (topic) => published.push(topic));
    await raw.subscribeAsync(["tf/query", "tf/control/+", "tf/subscribe/+", "tf/state/+"], { qos: 1 });
    const control = await fx.twins();
    await fx.node("B");
    const a = await fx.node("A");
    await until(
      () => control.get("A")?.kind !== undefined && control.get("B")?.kind !== undefined,
      "registered",
    );
    const seenBefore = published.length;

    const watcher: Twins = await fx.twins({ passive: true });
    expect(watcher.passive).toBe(true);
    await control.pair("A", "B");
    await control.set("B", true);
    await until(() => a.state.on, "A follows B's set");
    await until(
      () => watcher.get("A")?.reported?.on === true && watcher.get("A")?.follows.join() === "B",
      "the watcher sees the pairing and the state",
    );
    expect(watcher.get("A")).toMatchObject({ pairing: "confirmed", desired: { sources: ["B"] } });
    expect(watcher.convergence()).toMatchObject({ inSync: 1, known: 1 });
    await expect(watcher.set("A", false)).rejects.toThrow(/passive/);
    await expect(watcher.pair("B", "A")).rejects.toThrow(/passive/);
    await expect(watcher.query()).rejects.toThrow(/passive/);
    expect((await findTwinsServices(fx.url)).map((s) => s.clientId)).toEqual([control.clientId]);
    // Everything on the command and presence topics since the watcher started came from the controller.
    expect(published.slice(seenBefore).every((t) => t === "tf/subscribe/A" || t === "tf/state/B")).toBe(true);
  });
});
