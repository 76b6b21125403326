/**
 * Pairing a node while it is offline, on twinfleet's own broker: the pairing is pending until the
 * node itself confirms it, reaches the node when it returns whether or not it adopted the config
 * written for it, and survives a twins restart in between.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "aedes";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { CoreClient as Node } from "../../node/mqtt-node.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import type { Twins } from "../service.js";
import { jsonFileStore } from "../store.js";
import { FINDS_RETAINED, Fixtures, rawClient, until, watchNode } from "./helpers.js";

const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(): Promise<void> {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
}
const node = (id: string): Promise<Node> => fx.node(id);
async function online(t: Twins, ...ids: string[]): Promise<void> {
  await until(() => ids.every((id) => t.get(id)?.presence === "online" && t.get(id)?.kind), `${ids} online`);
}
/** B and A online on `t`'s broker, then A gone: stopped cleanly, or its power cut (`powerOff`). */
async function aGone(t: Twins, how: "stop" | "powerOff" = "stop"): Promise<void> {
  await node("B");
  const a = await node("A");
  await online(t, "A", "B");
  await a[how]();
  await until(() => t.get("A")?.presence === "offline", "A offline");
}
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "twins-offline-"));
  dirs.push(dir);
  return dir;
}

describe("pairing an offline node", () => {
  it("is pending while the node is away, and confirmed once the returning node has it", async () => {
    await setup();
    const t = await fx.twins();
    await aGone(t);
    await t.pair("A", "B");
    expect(t.get("A")).toMatchObject({
      pairing: "pending",
      pairingInSync: false,
      desired: { sources: ["B"] },
    });
    // The written config is on the broker, but it is not the node's word.
    await until(() => t.get("A")?.config?.sources.some((s) => s === "B") === true, "the written config seen");
    expect(t.get("A")?.pairing).toBe("pending");

    const back = await fx.node("A", FINDS_RETAINED); // a fresh core: it adopts the written config at its sync
    expect(back.state.sources).toEqual(["B"]);
    await until(() => t.get("A")?.pairing === "confirmed", "the pairing confirmed");
    expect(t.get("A")).toMatchObject({ pairingInSync: true, follows: ["B"] });
    expect(t.get("B")?.followers).toEqual(["A"]);
  });

  it("shows a pairing written for a node never seen pending, until the node has it", async () => {
    await setup();
    const t = await fx.twins();
    await node("B");
    await online(t, "B");
    // What `twinfleet pair X B` writes for a node the broker has no trace of.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/X", "C1 1 B", { qos: 1, retain: true });
    await until(() => t.get("X")?.config !== undefined, "the written config seen");
    expect(t.get("X")).toMatchObject({
      presence: "unknown",
      pairing: "pending",
      desired: { sources: ["B"] },
    });

    const x = await fx.node("X", FINDS_RETAINED);
    expect(x.state.sources).toEqual(["B"]);
    await until(() => t.get("X")?.pairing === "confirmed", "the pairing confirmed");
  });

  it("at its start, confirms the retained configs of online nodes, not of one away or never seen", async () => {
    await setup();
    const first = await fx.twins();
    await node("B");
    const a = await node("A");
    const c = await node("C");
    await online(first, "A", "B", "C");
    await first.pair("A", "B");
    await first.pair("C", "B");
    await until(
      () => first.get("A")?.pairing === "confirmed" && first.get("C")?.pairing === "confirmed",
      "paired",
    );
    await c.stop();
    await until(() => first.get("C")?.presence === "offline", "C offline");
    await first.close();
    const raw = fx.track(await rawClient(fx.url), (cl) => cl.endAsync());
    await raw.publishAsync("tf/config/X", "C1 1 B", { qos: 1, retain: true });

    const t = await fx.twins({ passive: true }); // sends nothing: only what it sees confirms
    const replayed = () =>
      t.get("A")?.presence === "online" &&
      t.get("C")?.presence === "offline" &&
      t.get("X")?.config !== undefined;
    await until(replayed, "the retained configs and statuses replayed");
    expect(t.get("A")).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(t.get("C")).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });
    expect(t.get("X")).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });
    expect(a.state.sources).toEqual(["B"]);
  });

  it("reaches a returning node that never got the written config (the broker lost it)", async () => {
    await setup();
    const t = await fx.twins();
    await aGone(t, "powerOff");
    await t.pair("A", "B");
    // The broker loses the write before A comes back.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "", { qos: 1, retain: true });

    const back = await node("A");
    expect(back.state.sources).toEqual([]); // nothing to adopt
    await until(() => back.state.sources.some((s) => s === "B"), "the service sent F1 B");
    await until(() => t.get("A")?.pairing === "confirmed", "the pairing confirmed");
    expect(t.get("A")?.desired.sources).toEqual(["B"]);
  });

  it("survives a twins restart between the pair and the node's return", async () => {
    await setup();
    const dir = await dataDir();
    let t = await fx.twins({ store: await jsonFileStore(dir) });
    await aGone(t);
    await t.pair("A", "B");
    await t.close();

    t = await fx.twins({ store: await jsonFileStore(dir) });
    await until(() => t.get("A")?.config !== undefined, "the retained config replayed");
    expect(t.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });
    const back = await node("A");
    // The retained config may reach the node after its sync grace on a busy host: wait for it.
    await until(() => back.state.sources.join() === "B", "A took B from the retained config");
    await until(() => t.get("A")?.pairing === "confirmed", "confirmed by the restarted service");
  });

  it("after a twins restart, a pairing written while the node is away is not shown as what it follows", async () => {
    await setup();
    const dir = await dataDir();
    let t = await fx.twins({ store: await jsonFileStore(dir) });
    await node("B");
    await node("C");
    const a = await node("A");
    await online(t, "A", "B", "C");
    await t.pair("A", "C");
    await until(() => t.get("A")?.pairing === "confirmed", "A follows C");
    await a.stop();
    await until(() => t.get("A")?.presence === "offline", "A offline");
    // The restarted service never heard A publish its config: it has the broker's copy.
    await t.close();
    t = await fx.twins({ store: await jsonFileStore(dir) });
    await until(() => t.get("A")?.presence === "offline" && t.get("A")?.config !== undefined, "A's copies");
    expect(t.get("A")?.follows).toEqual(["C"]);
    await t.pair("A", "B");
    await until(() => t.get("A")?.config?.sources.length === 2, "the written config seen");
    // The write is the desire, pending; A follows what it had (it showed C and B, B as a follower).
    expect(t.get("A")).toMatchObject({
      pairing: "pending",
      desired: { sources: ["C", "B"] },
      follows: ["C"],
    });
    expect(t.get("B")?.followers).toEqual([]);
    // Once A takes it, it follows both.
    const back = await node("A");
    await until(() => back.state.sources.join() === "C,B", "A took C and B");
    await until(() => t.get("A")?.pairing === "confirmed", "confirmed");
    await until(() => t.get("A")?.follows.join() === "C,B", "A shown following C and B");
    expect(t.get("B")?.followers).toEqual(["A"]);
  });

  it("lets no stale low-version write replace the desire; the returning node is moved to it", async () => {
    await setup();
    const t = await fx.twins();
    await node("B");
    await node("C");
    // A follows C, then is taken offline by a clean stop.
    const a = await node("A");
    await online(t, "A", "B", "C");
    await t.pair("A", "C");
    await until(() => t.get("A")?.pairing === "confirmed", "A follows C");
    await a.stop();
    await until(() => t.get("A")?.presence === "offline", "A offline");
    await t.unpair("A", "C");
    await t.pair("A", "B");
    // Another tool writes an old, low version over the service's write: it replaces nothing.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 1 C", { qos: 1, retain: true });
    await until(() => (t.badInput().byReason["stale-config"] ?? 0) > 0, "the stale write counted");
    expect(t.get("A")?.desired.sources).toEqual(["B"]);

    const back = await node("A"); // adopts C1 1 C (the broker's copy), not the desire
    await until(() => back.state.sources.join() === "B", "the service moved A from C to B");
    await until(() => t.get("A")?.pairing === "confirmed", "confirmed");
    expect(t.get("A")?.desired.sources).toEqual(["B"]);
  });

  it("re-sends a pending set and pairing to a node that returns from a power cut", async () => {
    await setup();
    const t = await fx.twins();
    await aGone(t, "powerOff");
    await t.set("A", true);
    await t.pair("A", "B");
    const back = await node("A");
    await until(() => back.state.on && back.state.sources.some((s) => s === "B"), "A on and following B");
    await until(
      () => t.get("A")?.pairing === "confirmed" && t.get("A")?.desired.pendingSet === undefined,
      "nothing pending",
    );
  });

  it("after an in-memory broker restarts empty, a returning node's own old config replaces no pending desire", async () => {
    const first = await startBroker({ host: "127.0.0.1", port: 0 });
    let broker = first;
    fx.track(null, async () => broker.close());
    fx.url = first.url;
    const links = new Map<string, Client>();
    first.aedes.on("client", (c) => links.set(c.id, c));
    const t = await fx.twins({ reconnectPeriodMs: 100 });
    await node("B");
    await node("C");
    // A keeps its RAM across the outage and reconnects slowly, so it is away while the pairing changes.
    const a = fx.track(
      watchNode(
        new Node({
          url: first.url,
          core: {
            id: NodeId("A"),
            prefix: Prefix("tf"),
            kind: "sim",
            profile: "uno-w5100",
            firmware: "1.0.0",
            syncGraceMs: 150,
          },
          tickMs: 10,
          reconnectPeriodMs: 1500,
        }),
      ),
      (n) => n.stop(),
    );
    await a.start();
    await online(t, "A", "B", "C");
    await t.pair("A", "C");
    await until(() => t.get("A")?.pairing === "confirmed" && a.state.configVersion === 1, "A follows C");

    links.get("tf-A")?.conn.destroy(); // A's link drops: its will says offline
    await until(() => t.get("A")?.presence === "offline", "A offline");
    await t.unpair("A", "C");
    await t.pair("A", "B");
    expect(t.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });

    // The broker restarts empty on the same port: the written config is gone.
    await first.close();
    broker = await startBroker({ host: "127.0.0.1", port: first.port });
    // A syncs with nothing retained and puts back its own C1 1 C; the service moves it to B.
    await until(() => a.state.sources.join() === "B", "A moved from C to B", 10_000);
    await until(() => t.get("A")?.pairing === "confirmed", "confirmed", 10_000);
    expect(t.get("A")?.desired.sources).toEqual(["B"]);

    // The broker holds A's config again: a power cycle of A finds its pairing.
    await a.powerOff();
    const rebooted = await fx.node("A", FINDS_RETAINED);
    expect(rebooted.state.sources).toEqual(["B"]);
  });
});
