/**
 * The twins service's commands (set, pair, unpair) on a real broker on port 0: what reaches the
 * nodes, online or not, what survives a reboot or a restart, and what is refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import type { Twins } from "../service.js";
import { jsonFileStore } from "../store.js";
import { FINDS_RETAINED, Fixtures, rawClient, type TestBroker, until } from "./helpers.js";

const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
let broker: TestBroker;
async function setup(): Promise<void> {
  broker = await fx.broker();
}
async function twins(dataDir?: string): Promise<Twins> {
  return fx.twins(dataDir ? { store: await jsonFileStore(dataDir) } : {});
}
const node = (id: string): Promise<CoreClient> => fx.node(id);
/**
 * Power-cycles a node: the old one drops off (the broker sends its will), a new one boots and syncs
 * from what the broker retained.
 */
async function reboot(n: CoreClient): Promise<CoreClient> {
  await n.powerOff();
  return fx.node(n.id, FINDS_RETAINED);
}
async function online(t: Twins, ...ids: string[]): Promise<void> {
  await until(() => ids.every((id) => t.get(id)?.presence === "online" && t.get(id)?.kind), `${ids} online`);
}
/** A twins service (its store in `dataDir`, if given) and nodes B and A booted, both seen online. */
async function bothOnline(dataDir?: string): Promise<{ t: Twins; a: CoreClient; b: CoreClient }> {
  const t = await twins(dataDir);
  const b = await node("B");
  const a = await node("A");
  await online(t, "A", "B");
  return { t, a, b };
}

describe("twins commands", () => {
  it("set reaches the node with the highest counter seen, and the state survives a reboot", async () => {
    await setup();
    const t = await twins();
    const b = await node("B");
    await online(t, "B");
    b.press();
    b.press();
    await until(() => t.get("B")?.reported?.stamp.counter === 2, "B's presses reported");
    let a = await node("A");
    await online(t, "A");
    expect(await t.set("A", true)).toBe(2);
    await until(() => a.state.on, "A on");
    expect(a.state.stamp).toEqual({ counter: 3, origin: "A" });
    await until(() => t.get("A")?.reported?.on === true, "A's report");
    expect(t.get("A")?.desired.pendingSet).toBeUndefined();

    a = await reboot(a);
    expect(a.state).toMatchObject({ on: true, stamp: { counter: 3, origin: "A" } });
  });

  it("a set acknowledged in the same read as the node's report of it is not left pending", async () => {
    await setup();
    const proxy = await oneReadProxy(broker.port, "tf/report/A");
    const direct = fx.url;
    fx.url = proxy.url;
    const t = await twins();
    fx.url = direct;
    const a = await node("A");
    await online(t, "A");
    proxy.arm();
    await t.set("A", true);
    await until(() => a.state.on && t.get("A")?.reported?.on === true, "A on, and reported");
    expect(proxy.joined()).toBe(1);
    expect(t.get("A")?.desired.pendingSet).toBeUndefined();
    await proxy.close();
  });

  it("a set sent while the node is offline reaches it when it registers again", async () => {
    await setup();
    const t = await twins();
    const a = await node("A");
    await online(t, "A");
    await a.stop();
    await until(() => t.get("A")?.presence === "offline", "A offline");
    await t.set("A", true);
    expect(t.get("A")?.desired.pendingSet).toEqual({ on: true, counter: 0 });
    const back = await node("A");
    await until(() => back.state.on, "A on after coming back");
    await until(() => t.get("A")?.desired.pendingSet === undefined, "pending set cleared");
  });

  it("pair and unpair reach the follower, and the pairing survives its reboot", async () => {
    await setup();
    const { t, b, a: booted } = await bothOnline();
    let a = booted;
    await t.pair("A", "B");
    await until(() => a.state.sources.some((s) => s === "B"), "A follows B");
    await until(() => t.get("A")?.pairingInSync === true, "A's config reported");
    expect(t.get("B")?.followers).toEqual(["A"]);

    a = await reboot(a);
    expect(a.state.sources).toEqual(["B"]); // from its retained config
    b.press();
    await until(() => a.state.on, "A mirrors B after the reboot");

    await t.unpair("A", "B");
    await until(() => a.state.sources.length === 0, "A stopped following B");
    await until(() => t.get("B")?.followers.length === 0, "B has no followers");
  });

  it("puts a pairing back on the broker when someone clears the node's retained config", async () => {
    await setup();
    const { t, a: booted } = await bothOnline();
    let a = booted;
    await t.pair("A", "B");
    await until(() => t.get("A")?.pairingInSync === true, "A's config reported");
    // A client on the LAN clears it: the node still follows B, but would boot following nobody.
    // What the broker holds is watched, not the service's view (which holds the old config until the
    // clear reaches it): the config is back once a written one follows the clear.
    const rogue = await rawClient(broker.url);
    let cleared = false;
    const writtenAgain = new Promise<void>((resolve) =>
      rogue.on("message", (_topic, payload) => {
        if (payload.length === 0) cleared = true;
        else if (cleared) resolve();
      }),
    );
    await rogue.subscribeAsync("tf/config/A", { qos: 1 });
    await rogue.publishAsync("tf/config/A", "", { retain: true, qos: 1 });
    await writtenAgain;
    await rogue.endAsync();
    await until(
      () => t.get("A")?.config !== undefined && t.get("A")?.pairing === "confirmed",
      "A's config back",
    );
    a = await reboot(a);
    expect(a.state.sources).toEqual(["B"]); // from the config it wrote again
  });

  it("pairs an offline node by writing its retained config, which it adopts on boot", async () => {
    await setup();
    const { t, a } = await bothOnline();
    await a.stop();
    await until(() => t.get("A")?.presence === "offline", "A offline");
    await t.pair("A", "B");
    const back = await fx.node("A", FINDS_RETAINED);
    expect(back.state.sources).toEqual(["B"]);
    await until(() => t.get("A")?.config?.version === 1, "the written config seen");
    expect(t.get("A")?.config).toEqual({ version: 1, sources: ["B"] });
  });

  it("a restarted service keeps the pairing and restores it on a node that lost its config", async () => {
    await setup();
    const dir = await mkdtemp(join(tmpdir(), "twins-data-"));
    dirs.push(dir);
    const first = await bothOnline(dir);
    let t = first.t;
    let a = first.a;
    await t.pair("A", "B");
    await until(() => t.get("A")?.pairingInSync === true && t.get("A")?.config !== undefined, "paired");
    await t.close();

    // The broker loses A's retained config (an empty retained message deletes it), A reboots empty.
    await a.stop();
    const raw = await rawClient(broker.url);
    await raw.publishAsync("tf/config/A", "", { qos: 1, retain: true });
    await raw.endAsync();

    t = await twins(dir);
    expect(t.get("A")?.desired.sources).toEqual(["B"]);
    a = await node("A");
    await until(() => a.state.sources.some((s) => s === "B"), "the service re-sent F1 B");
    await until(() => t.get("A")?.pairingInSync === true, "in sync again");
  });

  it("rejects bad commands with a message naming what is wrong", async () => {
    await setup();
    const t = await twins();
    await expect(t.set("bad id!", true)).rejects.toThrow(/node: node id "bad id!" may contain only/);
    await expect(t.pair("A", "A")).rejects.toThrow(/cannot follow itself/);
    await expect(t.pair("A", "x".repeat(24))).rejects.toThrow(/source: node id .* 24 characters/);
    await expect(t.unpair("A", "B")).rejects.toThrow(/A does not follow B/);
    for (let i = 0; i < 8; i++) await t.pair("A", `S${i}`);
    await expect(t.pair("A", "S8")).rejects.toThrow(/already follows 8 nodes/);
  });
});

/**
 * A proxy in front of the broker that, once armed, hands the client the broker's next PUBACK together
 * with the next PUBLISH on `topic`, in one write: what a busy client reads when both came before it looked.
 */
async function oneReadProxy(
  port: number,
  topic: string,
): Promise<{ url: string; arm: () => void; joined: () => number; close: () => Promise<void> }> {
  let joined = 0;
  let armed = false;
  const ends: (() => void)[] = [];
  const server: Server = createServer((down) => {
    const up = createConnection(port, "127.0.0.1");
    down.pipe(up);
    let held: Buffer[] | undefined;
    let rest = Buffer.alloc(0);
    const packet = (bytes: Buffer): void => {
      const type = (bytes[0] ?? 0) >> 4;
      if (held === undefined && type === PUBACK && armed) {
        held = [bytes];
        armed = false;
      } else if (held !== undefined) {
        held.push(bytes);
        if (type === PUBLISH && publishTopic(bytes) === topic) {
          down.write(Buffer.concat(held));
          held = undefined;
          joined++;
        }
      } else down.write(bytes);
    };
    const parse = (d: Buffer): void => {
      rest = Buffer.concat([rest, d]);
      for (let frame = frameLength(rest); frame !== undefined; frame = frameLength(rest)) {
        packet(rest.subarray(0, frame));
        rest = rest.subarray(frame);
      }
    };
    up.on("data", parse);
    const end = () => {
      up.destroy();
      down.destroy();
    };
    ends.push(end);
    up.on("close", end).on("error", end);
    down.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: at } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${at}`,
    arm: () => {
      armed = true;
    },
    joined: () => joined,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const end of ends) end();
      }),
  };
}

const PUBLISH = 3;
const PUBACK = 4;

/** The length of the MQTT packet at the start of `b`, or undefined while it is incomplete. */
function frameLength(b: Buffer): number | undefined {
  let len = 0;
  for (let i = 1, mul = 1; i < 5 && i < b.length; i++, mul *= 128) {
    const byte = b[i] as number;
    len += (byte & 127) * mul;
    if (byte < 128) return b.length >= i + 1 + len ? i + 1 + len : undefined;
  }
  return undefined;
}

/** The topic of a PUBLISH packet. */
function publishTopic(p: Buffer): string {
  let i = 1;
  while ((p[i] as number) >= 128) i++;
  const n = p.readUInt16BE(i + 1);
  return p.subarray(i + 3, i + 3 + n).toString();
}
