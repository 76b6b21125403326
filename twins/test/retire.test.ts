/**
 * Retiring a node for good (twins/retire.ts), on twinfleet's own broker: its followers stop following
 * it, nothing of it stays retained (a fresh board with its id finds nothing and registers as new), its
 * twin leaves the view and the store, and another control server on the broker forgets it too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { BrokerUnavailableError, TwinsCommandError } from "../api.js";
import { UnknownNodeError } from "../retire.js";
import type { Twins } from "../service.js";
import { jsonFileStore } from "../store.js";
import { changed, FINDS_RETAINED, Fixtures, rawClient, until } from "./helpers.js";
import { storedFile } from "./stored-file.js";

const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
  return b;
}
async function online(t: Twins, ...ids: string[]): Promise<void> {
  await until(() => ids.every((id) => t.get(id)?.presence === "online" && t.get(id)?.kind), `${ids} online`);
}
const confirmed = (t: Twins, id: string, sources: string[]) =>
  until(
    () => t.get(id)?.pairing === "confirmed" && t.get(id)?.follows.join() === sources.join(),
    `${id} follows ${sources}`,
  );

describe("forgetting a retired node", () => {
  it("unpairs its followers, clears what the broker kept of it and drops its twin from the view and the store", async () => {
    await setup();
    const dir = await mkdtemp(join(tmpdir(), "twins-retire-"));
    dirs.push(dir);
    const t = await fx.twins({ store: await jsonFileStore(dir) });
    const forgotten: string[] = [];
    t.on("twin-forgotten", (id, why) => forgotten.push(`${id} ${why}`));
    await fx.node("D");
    const b = await fx.node("B");
    const a = await fx.node("A");
    const c = await fx.node("C");
    await online(t, "A", "B", "C", "D");
    await t.pair("B", "D");
    await t.pair("A", "B");
    await t.pair("C", "B");
    await Promise.all([confirmed(t, "A", ["B"]), confirmed(t, "B", ["D"]), confirmed(t, "C", ["B"])]);
    b.press();
    await until(() => t.get("B")?.reported?.stamp.origin === "B", "B's press reported");
    await b.stop();
    await c.stop(); // a follower away when its source is retired
    await until(
      () => t.get("B")?.presence === "offline" && t.get("C")?.presence === "offline",
      "B, C offline",
    );

    const done = await t.forget("B");
    expect(done).toEqual({
      node: "B",
      unpaired: ["A", "C"],
      cleared: ["tf/status/B", "tf/config/B", "tf/report/B"],
    });
    expect(t.get("B")).toBeUndefined();
    expect(t.list().map((x) => x.id)).toEqual(["A", "C", "D"]);
    expect(forgotten).toEqual(["B retired"]);
    expect(t.get("C")?.desired.sources).toEqual([]);
    await until(() => a.state.sources.length === 0, "A no longer follows B");
    await until(() => t.get("A")?.pairing === "confirmed" && t.get("A")?.follows.length === 0, "A confirmed");

    await t.flush();
    const stored = await storedFile(dir);
    expect(Object.keys(stored.nodes).sort()).toEqual(["A", "C", "D"]);

    // The follower away comes back following nobody (the config written for it).
    const c2 = await fx.node("C", FINDS_RETAINED);
    expect(c2.state.sources).toEqual([]);
    // A fresh board with the retired id finds nothing retained, and registers as new.
    const registered: string[] = [];
    t.on("twin-registered", (tw, first) => registered.push(`${tw.id} ${first}`));
    const b2 = await fx.node("B", FINDS_RETAINED);
    expect(b2.state).toMatchObject({ sources: [], configVersion: 0, stamp: { counter: 0 } });
    await until(() => registered.includes("B true"), "B registered as new");
  });

  it("refuses an unknown node, and an online one unless forced; refused with nothing changed while the broker is away", async () => {
    const broker = await setup();
    const t = await fx.twins();
    await fx.node("A");
    await online(t, "A");
    await expect(t.forget("nope")).rejects.toBeInstanceOf(UnknownNodeError);
    // A malformed forget request is bad input, and forgets nothing.
    const bad: string[] = [];
    t.on("bad-input", (i) => bad.push(`${i.reason} ${i.topic}`));
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/forget/A", "D1 now", { qos: 1 });
    await raw.publishAsync("tf/forget/a.b", "D1", { qos: 1 });
    await until(() => bad.length === 2, "two bad inputs");
    expect(bad).toEqual(["bad-payload tf/forget/A", "bad-id tf/forget/a.b"]);
    expect(t.badInputOf("A")).toBe(1);
    await expect(t.forget("A")).rejects.toThrow(/A is online: .*force/);
    await expect(t.forget("A")).rejects.toBeInstanceOf(TwinsCommandError);
    expect(t.get("A")).toBeDefined();
    expect((await t.forget("A", { force: true })).node).toBe("A");
    expect(t.get("A")).toBeUndefined();

    await fx.node("E");
    await online(t, "E");
    const lost = new Promise((resolve) => t.once("broker", resolve));
    await broker.close();
    await lost;
    const away = await t.forget("E", { force: true }).catch((e: unknown) => e);
    expect(away).toBeInstanceOf(BrokerUnavailableError);
    expect((away as Error).message).toMatch(/is not reachable .*: the forget of E was not sent$/);
    expect(t.get("E")).toBeDefined();
  });

  it("is carried out by every other control server on the broker, a passive one included", async () => {
    await setup();
    const t1 = await fx.twins();
    const t2 = await fx.twins(); // the one that paired F with S
    const watcher = await fx.twins({ passive: true });
    for (const t of [t1, t2, watcher]) t.on("twin-forgotten", changed);
    const s = await fx.node("S");
    const f = await fx.node("F");
    await online(t2, "S", "F");
    await t2.pair("F", "S");
    await confirmed(t2, "F", ["S"]);
    await s.stop();
    for (const t of [t1, t2, watcher]) await until(() => t.get("S")?.presence === "offline", "S offline");

    await t1.forget("S");
    for (const t of [t1, t2, watcher]) await until(() => t.get("S") === undefined, `${t.clientId} forgot S`);
    // t2's own desire no longer names S: nothing of its pairing comes back.
    expect(t2.get("F")?.desired.sources).toEqual([]);
    await until(() => f.state.sources.length === 0, "F no longer follows S");
    await until(() => t2.get("F")?.pairing === "confirmed", "t2 sees F confirmed");
  });
});

describe("a forget request published retained", () => {
  it("is taken when it is sent, but not replayed: a node back with that id is not forgotten again at the next start", async () => {
    await fx.broker(); // aedes keeps it retained, as Mosquitto does
    const t = await fx.twins();
    t.on("twin-forgotten", changed);
    await fx.node("A");
    await online(t, "A");
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/forget/A", "D1", { qos: 1, retain: true });
    await until(() => t.get("A") === undefined, "A forgotten");
    await fx.node("A"); // the board back: a new node
    await online(t, "A");

    const again = await fx.twins(); // a control server started later is replayed the request
    again.on("twin-forgotten", changed);
    await online(again, "A");
    await until(() => again.badInput().byReason["bad-payload"] === 1, "the replay counted as bad input");
    expect(again.get("A")).toBeDefined();
    expect(t.get("A")).toBeDefined();
  });
});
