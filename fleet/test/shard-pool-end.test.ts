/**
 * How a shard's task ends outside finish(): a task that fails while the run goes on is reported as
 * that worker's error at once, and the tasks destroy() ends (a run failing for some other reason,
 * cleaning up) are no error at all — no unhandled rejection to crash the process over the real one.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, expect, it } from "vitest";
import { startable } from "../../node/paths.js";
import type { DeviceProfile } from "../../node/profile.js";
import { loadProfile } from "../../node/profile.js";
import { NodeId } from "../../protocol/index.js";
import type { ShardReport } from "../../sim/messages.js";
import { ShardPool, workerModule } from "../shards.js";

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
process.on("unhandledRejection", onUnhandled);
afterEach(() => {
  unhandled.length = 0;
});

function common(profile: DeviceProfile) {
  return {
    // Nothing listens here: the node keeps trying, so its task runs until it is ended.
    brokerHost: "127.0.0.1",
    brokerPort: 1,
    prefix: "tf-pool-end",
    profile,
    seed: "pool-end",
    loss: { kind: "none" } as const,
    timeOrigin: 0,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

it("ends running tasks quietly on destroy()", async () => {
  const reports: ShardReport[] = [];
  const pool = new ShardPool(1, (r) => reports.push(r));
  pool.launch([NodeId("n-1")], 1, 0, 0, common(loadProfile("uno-w5100")));
  await settle();
  await pool.destroy();
  await settle();
  expect(unhandled).toEqual([]);
  expect(reports.filter((r) => r.type === "error")).toEqual([]);
}, 30_000);

it("reports a task that fails while the run goes on as its worker's error", async () => {
  const reports: ShardReport[] = [];
  const pool = new ShardPool(1, (r) => reports.push(r));
  // A profile the worker cannot build nodes from.
  pool.launch([NodeId("n-1")], 1, 0, 0, common({} as DeviceProfile));
  for (let i = 0; i < 50 && !reports.some((r) => r.type === "error"); i++) await settle();
  const errors = reports.filter((r) => r.type === "error");
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ type: "error", shard: 0 });
  await pool.destroy();
  expect(unhandled).toEqual([]);
}, 30_000);

it("loads the worker module with import(): a thread ended while it loads cannot abort the process", async () => {
  // piscina tries require() first; with require(esm) off in the thread it throws and piscina imports.
  // A thread terminated inside a synchronous require() of an ES module aborted the whole process
  // (V8: "IsGraphAsync must be used on an instantiated module") about one run in two of destroying a
  // pool 10–150 ms after launch, sweeping by 2 ms, on this machine.
  const { execArgv } = workerModule();
  const w = new Worker(
    `const { parentPort } = require("node:worker_threads");
     try { require(${JSON.stringify(fileURLToPath(startable("node/paths").url))}); parentPort.postMessage("required"); }
     catch (e) { parentPort.postMessage(e.code); }`,
    { eval: true, execArgv: execArgv.filter((a) => a !== "--import" && a !== "tsx") },
  );
  const said = await new Promise((resolve) => w.once("message", resolve));
  await w.terminate();
  expect(said).toBe("ERR_REQUIRE_ESM");
});

it("hands over the events a shard posts as it finishes, before finish() resolves", async () => {
  // The shard's last events go on its port, its result by another way: in this thread the result
  // always came first, and closing the port then dropped the press made just before the finish.
  const reports: ShardReport[] = [];
  const pool = new ShardPool(0, (r) => reports.push(r));
  pool.launch([NodeId("n-1")], 1, 0, 0, common(loadProfile("ideal")));
  await settle();
  pool.send(NodeId("n-1"), { type: "press", id: NodeId("n-1") });
  await pool.finish();
  const events = reports.flatMap((r) => (r.type === "events" ? r.events : []));
  expect(events.filter((e) => e.type === "press")).toHaveLength(1);
});

it("with onDied, hears of a shard whose task ended and finishes with the others' results", async () => {
  // The fleet's run ends at such a death (fleet/thread-death.ts) and reports the shards still alive:
  // finish() used to fail with the dead shard's error, and the run with no report at all.
  const reports: ShardReport[] = [];
  const died: { shard: number; nodes: number }[] = [];
  const pool = new ShardPool(
    2,
    (r) => reports.push(r),
    undefined,
    (shard, _e, nodes) => died.push({ shard, nodes }),
  );
  pool.start({ ...common(loadProfile("ideal")), shard: 0, ids: [NodeId("n-1")], bootAt: [0] });
  // A profile the worker cannot build nodes from: its task fails.
  pool.start({
    ...common({} as DeviceProfile),
    shard: 1,
    ids: [NodeId("n-2"), NodeId("n-3")],
    bootAt: [0, 0],
  });
  for (let i = 0; i < 50 && died.length === 0; i++) await settle();
  expect(died).toEqual([{ shard: 1, nodes: 2 }]);
  const results = await pool.finish();
  expect(results.map((r) => r.shard)).toEqual([0]);
  expect(reports.filter((r) => r.type === "error")).toEqual([]);
  await pool.destroy();
  expect(unhandled).toEqual([]);
}, 30_000);
