/**
 * What the broker-restart tests share: a node connected as the firmware connects (its will, its
 * retained `T1 1`), a twinfleet broker on a data directory with its previous run's wills held back,
 * and a data directory removed after the test. Real sockets, port 0 unless a port is given.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import mqtt from "mqtt";
import { pino } from "pino";
import { type RunningBroker, startBroker } from "../../broker/index.js";

const quiet = pino({ level: "silent" });

/** A node as the firmware connects: its will `T1 0`, then its `T1 1`, both retained. */
export async function nodeOn(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    clientId: `node-${id}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  await c.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  return c;
}

/** A broker on `dir` (on `port` when given), its previous run's wills held back for the test's length. */
export async function brokerOn(dir: string, port = 0): Promise<RunningBroker> {
  return startBroker({ host: "127.0.0.1", port, dataDir: dir, logger: quiet, staleWillGraceMs: 600_000 });
}

/** A fresh directory named `prefix…`, removed by `cleanup` (cleanupAfterEach's list) after the test. */
export async function dataDir(cleanup: Array<() => unknown>, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.unshift(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
