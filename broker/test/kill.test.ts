/**
 * kill(): the broker stopped as by `kill -9`. Every socket goes at once, no will is published, the
 * store keeps what it had written and is released, and a new broker starts at once on the same
 * port and data directory. Then what that new broker does with the wills the killed one left in
 * LevelDB: a node that stays away is reported offline by the will clean-up, or sooner by the grace
 * after the start (broker/stale-wills.ts); a node that came back is never reported offline by its
 * stale will, even when it came back while the clean-up ran.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IClientOptions, MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, nextMessage, once } from "./helpers.js";

let dir: string;
let brokers: RunningBroker[] = [];
let clients: MqttClient[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-kill-"));
});
afterEach(async () => {
  vi.useRealTimers();
  await closeAll(...clients);
  for (const b of brokers) await b.close();
  brokers = [];
  clients = [];
  await rm(dir, { recursive: true, force: true });
});

async function start(port: number, dataDir?: string, staleWillGraceMs?: number): Promise<RunningBroker> {
  const b = await startBroker({ host: "127.0.0.1", port, dataDir, staleWillGraceMs });
  brokers.push(b);
  return b;
}

/**
 * A node as protocol.md §5.1 has it: a retained `T1 0` will, then a retained `T1 1` once connected.
 * No keepalive, so that no timer of its own runs while a test fakes the broker's intervals.
 */
async function node(url: string, id: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const c = await client(url, {
    clientId: id,
    keepalive: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
    ...extra,
  });
  clients.push(c);
  await c.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  return c;
}

async function watcher(url: string, id = "watcher"): Promise<{ c: MqttClient; seen: string[] }> {
  const c = await client(url, { clientId: id, keepalive: 0 });
  clients.push(c);
  const seen: string[] = [];
  c.on("message", (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await c.subscribeAsync("tf/status/+", { qos: 1 });
  return { c, seen };
}

/** The retained status of `id` as a new subscriber gets it, or undefined if there is none. */
async function retainedStatus(url: string, id: string): Promise<string | undefined> {
  const c = await client(url, { clientId: `probe-${id}`, keepalive: 0 });
  clients.push(c);
  let status: string | undefined;
  c.on("message", (topic, payload) => {
    if (topic === `tf/status/${id}`) status = payload.toString();
  });
  // A retained message is sent before anything published after the SUBACK: the marker ends the wait.
  await c.subscribeAsync([`tf/status/${id}`, "tf/marker"]);
  const marker = nextMessage(c, "tf/marker");
  await c.publishAsync("tf/marker", "m");
  await marker;
  return status;
}

describe("kill()", () => {
  it("publishes no will, keeps what the store wrote, and frees the port and the directory", async () => {
    const a = await start(0, dir);
    const { c: w, seen } = await watcher(a.url);
    const online = nextMessage(w, "tf/status/n1");
    const n1 = await node(a.url, "n1");
    expect(await online).toBe("T1 1");

    const cut = Promise.all([once(n1, "close"), once(w, "close")]);
    await Promise.all([a.kill(), a.kill()]);
    await cut;
    expect(seen).toEqual(["tf/status/n1 T1 1"]);

    // Same port, same directory, at once.
    const b = await start(a.port, dir);
    expect(b.port).toBe(a.port);
    expect(await retainedStatus(b.url, "n1")).toBe("T1 1");

    // The node comes back and works as before.
    const again = await node(b.url, "n1");
    const echo = nextMessage(again, "tf/state/n1");
    await again.subscribeAsync("tf/state/n1");
    await again.publishAsync("tf/state/n1", "S1 1 1");
    expect(await echo).toBe("S1 1 1");
  });

  it("leaves nothing behind in memory", async () => {
    const a = await start(0);
    await node(a.url, "n1");
    await a.kill();
    const b = await start(a.port);
    expect(await retainedStatus(b.url, "n1")).toBeUndefined();
  });

  it("waits for a close() under way instead of starting over", async () => {
    const a = await start(0, dir);
    await expect(Promise.all([a.close(), a.kill()])).resolves.toBeDefined();
  });
});

/** A will as aedes keeps it in the store. */
interface StoredWill {
  clientId: string;
  brokerId: string;
  topic: string;
}
type WillStream = (brokers: Record<string, number>) => AsyncIterable<StoredWill>;

describe("wills a killed broker left in LevelDB", () => {
  /** Kills a broker that had nodes n1 and n2 connected; returns its port. */
  async function killedWithNodes(): Promise<number> {
    const a = await start(0, dir);
    await node(a.url, "n1");
    await node(a.url, "n2");
    await a.kill();
    return a.port;
  }

  /**
   * Starts the next broker with its intervals on a fake clock. aedes publishes the stored wills of
   * brokers it has not heard from at its clean-up, every 4 heartbeats (4 min).
   */
  async function restartWithFakeIntervals(port: number): Promise<RunningBroker> {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    return start(port, dir);
  }
  const runWillCleanUp = () => vi.advanceTimersByTime(4 * 60_000);

  it("reports a node that stayed away offline, and not one that came back", async () => {
    const port = await killedWithNodes();
    const b = await restartWithFakeIntervals(port);
    const { seen } = await watcher(b.url);
    await node(b.url, "n1"); // back, with a fresh will; n2 stays away
    const n2Offline = once<[string, Buffer]>(
      (await watcher(b.url, "watcher-2")).c,
      "message",
      5000,
      (topic, payload) => topic === "tf/status/n2" && payload.toString() === "T1 0",
    );

    runWillCleanUp();
    await n2Offline;
    expect(seen).not.toContain("tf/status/n1 T1 0");
    expect(await retainedStatus(b.url, "n1")).toBe("T1 1");
  });

  it("publishes, after its grace, the wills of the previous run's nodes not back, long before aedes's clean-up", async () => {
    const port = await killedWithNodes();
    // aedes's own clean-up is 4 minutes away (real intervals): only the grace can publish in time.
    const b = await start(port, dir, 300);
    const { seen } = await watcher(b.url);
    await node(b.url, "n1"); // back within the grace; n2 stays away
    const n2Offline = once<[string, Buffer]>(
      (await watcher(b.url, "watcher-2")).c,
      "message",
      5000,
      (topic, payload) => topic === "tf/status/n2" && payload.toString() === "T1 0",
    );
    await n2Offline;
    expect(seen).not.toContain("tf/status/n1 T1 0");
    expect(await retainedStatus(b.url, "n1")).toBe("T1 1");
    expect(await retainedStatus(b.url, "n2")).toBe("T1 0");
    // Published once: deleted from the store, so the next restart has no will of n2's left (n1's,
    // of its session on the broker killed now, goes out then).
    await b.kill();
    const c = await start(port, dir, 0);
    const { c: w3, seen: later } = await watcher(c.url, "watcher-3");
    await once<[string, Buffer]>(
      w3,
      "message",
      5000,
      (topic, payload) => topic === "tf/status/n1" && payload.toString() === "T1 0",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(later.filter((m) => m.startsWith("tf/status/n2"))).toEqual(["tf/status/n2 T1 0"]); // retained
  });

  it("never reports a node offline by a stale will read just before it came back", async () => {
    const port = await killedWithNodes();
    const b = await restartWithFakeIntervals(port);

    // Hold the clean-up between reading the stored wills and publishing them, and bring n1 back
    // in between: the stale will in hand is then that of a client connected here again.
    const { persistence: store } = b.aedes as unknown as { persistence: { streamWill: WillStream } };
    const streamWill = store.streamWill.bind(store);
    let read: () => void = () => {};
    const wereRead = new Promise<void>((resolve) => {
      read = resolve;
    });
    let resume: () => void = () => {};
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let finished: () => void = () => {};
    const firstBatchDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    store.streamWill = (alive) =>
      (async function* () {
        const stale: StoredWill[] = [];
        for await (const will of streamWill(alive)) stale.push(will);
        read();
        await resumed;
        yield* stale.filter((w) => w.clientId === "n1");
        // aedes handles wills in batches of 16 and reads the 17th only once the batch is done:
        // pad the batch with wills of this live broker, which it skips.
        for (let i = 0; i < 15; i++) yield { clientId: `pad-${i}`, brokerId: b.aedes.id, topic: "x/y" };
        finished();
      })();

    runWillCleanUp();
    await wereRead;
    await node(b.url, "n1");
    resume();
    await firstBatchDone;
    expect(await retainedStatus(b.url, "n1")).toBe("T1 1");
  });
});
