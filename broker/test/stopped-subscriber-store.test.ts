/**
 * A stopped twins service beside a fleet, as a broker with a data directory sees it: a client
 * subscribed to every node's topics (`tf/#`) that stops reading its socket (its process stopped,
 * its VM paused), while the nodes publish their retained reports, each stored in LevelDB before it
 * is delivered. The followers, subscribed to the reports, must get every one, each node's in order,
 * while the stopped client's bytes wait in its own queue (slow-client.test.ts: the same without a
 * store and without retained messages).
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterEach, expect, it } from "vitest";
import { loopDeadline } from "../../node/test/loop-time.js";
import { FrameLimitedStream } from "../frame-limit.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, stoppedSubscriber } from "./helpers.js";

const NODES = 20;
const REPORTS = 150;
/** 3,000 reports of 4 KiB: 12 MiB, far more than loopback socket buffers hold for the stopped client. */
const PAYLOAD_BYTES = 4096;
/** A bound for a broker that never delivers, not a measure of one that does. */
const WAIT_MS = 40_000;

let broker: RunningBroker | undefined;
let dir: string | undefined;
let sockets: Socket[] = [];
let clients: MqttClient[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await closeAll(...clients);
  await broker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  broker = undefined;
  dir = undefined;
  sockets = [];
  clients = [];
});

/** A raw client on `tf/#`, as the twins service subscribes, that reads its CONNACK and SUBACK, then stops. */
async function stoppedService(b: RunningBroker): Promise<void> {
  await stoppedSubscriber(b.port, "tf-twins-stopped", "tf/#", sockets);
}

/** Resolves with each node's report numbers as `c` got them, once it has them all. */
function followerGets(c: MqttClient): Promise<Map<string, number[]>> {
  const got = new Map<string, number[]>();
  let count = 0;
  return new Promise((resolve, reject) => {
    const deadline = loopDeadline(WAIT_MS, () =>
      reject(new Error(`the follower got ${count} of ${NODES * REPORTS} reports`)),
    );
    c.on("message", (topic, payload) => {
      const node = topic.split("/")[2] as string;
      got.set(node, [...(got.get(node) ?? []), payload.readUInt32BE(0)]);
      if (++count === NODES * REPORTS) {
        deadline.cancel();
        resolve(got);
      }
    });
  });
}

it("delivers every node's retained reports to a follower while a stopped subscriber to tf/# holds its bytes", async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-stopped-sub-"));
  // Neither limit is reached here: the stopped client stays connected throughout.
  broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir,
    maxQueuedBytes: 1024 ** 3,
    drainTimeoutMs: WAIT_MS * 2,
  });
  const b = broker;
  await stoppedService(b);
  const follower = await client(b.url, { clientId: "follower" });
  clients.push(follower);
  await follower.subscribeAsync("tf/report/+", { qos: 0 });
  const nodes: MqttClient[] = [];
  for (let i = 0; i < NODES; i++) nodes.push(await client(b.url, { clientId: `n-${i}` }));
  clients.push(...nodes);

  const received = followerGets(follower);
  for (let r = 0; r < REPORTS; r++)
    nodes.forEach((n, i) => {
      const payload = Buffer.alloc(PAYLOAD_BYTES, 0x52);
      payload.writeUInt32BE(r, 0);
      n.publish(`tf/report/n-${i}`, payload, { qos: 0, retain: true });
    });

  const got = await received;
  const inOrder = Array.from({ length: REPORTS }, (_, r) => r);
  for (let i = 0; i < NODES; i++) expect(got.get(`n-${i}`)).toEqual(inOrder);
  // The stopped client really is backed up, and still connected: it held up nobody.
  const { clients: byId } = b.aedes as unknown as { clients: Record<string, { conn: unknown } | undefined> };
  const conn = byId["tf-twins-stopped"]?.conn;
  expect(conn).toBeInstanceOf(FrameLimitedStream);
  expect((conn as FrameLimitedStream).queuedBytes).toBeGreaterThan(0);
  expect(b.aedes.connectedClients).toBe(NODES + 2);
}, 60_000);
