// A shard started after the other shard's nodes had registered: their register messages (not
// retained) went before it subscribed, so it used to wait its 30 s registration limit for them and
// then press alone, after the other shard's presses. It now counts the other shards' nodes online
// with a state when it started, and both press together.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { readShardFile } from "../../fleet/shard-report.js";
import { RealScheduler } from "../../node/scheduler.js";
import { runShardProcess } from "./shard-process.js";

let dir: string;
let broker: BrokerHost;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tf-shard-late-"));
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("a shard started after the other's nodes registered presses together with it", async () => {
  const spec = { of: 2, url: broker.url, nodes: 8, rate: 30, durationS: 3, settleS: 1, seed: "late", dir };
  const first = runShardProcess({ ...spec, k: 1 });
  // Shard 1's nodes register within a second or two; shard 2 comes 4 s after.
  await new Promise((r) => setTimeout(r, 4000));
  const second = runShardProcess({ ...spec, k: 2 });
  const runs = await Promise.all([first, second]);
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  const [s1, s2] = [1, 2].map((k) => readShardFile(join(dir, `s${k}.json`)));
  // One host, one clock: the presses began within a couple of seconds of each other (not 30 s apart).
  expect(Math.abs((s2?.pressStartMs ?? 0) - (s1?.pressStartMs ?? 0))).toBeLessThan(3000);
}, 90_000);
