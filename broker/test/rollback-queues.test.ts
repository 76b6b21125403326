/**
 * A session's queue across a rollback: messages an older build (a random UUID per start, which sorts
 * before this build's ids) queued after this build had run go out after what this build had queued,
 * not ahead of it; those it queued before this build's first start stay first.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import LevelPersistence from "aedes-persistence-level/asyncPersistence.js";
import { ClassicLevel } from "classic-level";
import { connect } from "mqtt";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

let broker: RunningBroker | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface OlderStore {
  setup(broker: unknown): Promise<void>;
  addSubscriptions(client: { id: string }, subs: { topic: string; qos: number }[]): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
}

/** An older build's run on `dir`: its broker id a UUID, its messages queued for `sleeper`. */
async function olderBuildQueues(dir: string, brokerId: string, payloads: string[]): Promise<void> {
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: "buffer" });
  await db.open();
  const store = new LevelPersistence(db) as unknown as OlderStore;
  await store.setup({ id: brokerId });
  await store.addSubscriptions({ id: "sleeper" }, [{ topic: "q", qos: 1 }]);
  for (const [i, p] of payloads.entries()) {
    const packet = { cmd: "publish", topic: "q", payload: Buffer.from(p), qos: 1, retain: false, dup: false };
    await store.outgoingEnqueue({ clientId: "sleeper" }, { ...packet, brokerId, brokerCounter: i + 1 });
  }
  await db.close();
}

it("sends what an older build queued after a rollback after what this build had queued", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rollback-queues-"));
  dirs.push(dir);
  // Before the upgrade: queued by the older build, first.
  await olderBuildQueues(dir, "f1d2c3b4-0000-4000-8000-000000000001", ["z1", "z2"]);
  // This build: three more queued.
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const publisher = await client(broker.url, { clientId: "pub" });
  for (const p of ["a1", "a2", "a3"]) await publisher.publishAsync("q", p, { qos: 1 });
  await closeAll(publisher);
  await broker.close();
  // Rolled back: the older build queues three more, under an id sorting before this build's.
  await olderBuildQueues(dir, "0e2d8a5c-0000-4000-8000-000000000002", ["b1", "b2", "b3"]);
  // Upgraded again.
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const got: string[] = [];
  const back = connect(broker.url, { clientId: "sleeper", clean: false, reconnectPeriod: 0 });
  back.on("message", (_t, payload) => void got.push(payload.toString()));
  for (let i = 0; got.length < 8 && i < 250; i++) await new Promise((r) => setTimeout(r, 20));
  expect(got).toEqual(["z1", "z2", "a1", "a2", "a3", "b1", "b2", "b3"]);
  await closeAll(back);
});
