/**
 * A pool whose threads fail as they start (EMFILE under a low `ulimit -n`). The first takes its
 * shard's task with it (told as that shard's death); piscina starts another in its place, which
 * fails with no task yet: that is told on the pool, and piscina starts no more. The shard queued
 * for a thread dies of it at once, and nothing crashes (an unhandled 'error') or waits for ever.
 */
import { afterEach, expect, it } from "vitest";
import { loadProfile } from "../../node/profile.js";
import { NodeId } from "../../protocol/index.js";
import type { ShardReport } from "../../sim/messages.js";
import { piscinaOf, ShardPool, workerModule } from "../shards.js";
import { threadCause, threadDeathLine } from "../thread-death.js";

/** The sim's own worker module, its threads made to fail first (thread-start-fails.mjs). */
const failing = {
  filename: workerModule().filename,
  execArgv: [
    ...workerModule().execArgv,
    "--import",
    new URL("./thread-start-fails.mjs", import.meta.url).href,
  ],
};

const crashes: unknown[] = [];
const onCrash = (e: unknown) => void crashes.push(e);
process.on("uncaughtException", onCrash);
process.on("unhandledRejection", onCrash);
afterEach(() => {
  crashes.length = 0;
  delete process.env.FAIL_AS;
});

const common = {
  brokerHost: "127.0.0.1",
  brokerPort: 1,
  prefix: "tf-pool-start",
  profile: loadProfile("ideal"),
  seed: "pool-start",
  loss: { kind: "none" } as const,
  timeOrigin: 0,
};

/**
 * Two shards on a pool of one thread that fails as it starts: the second shard waits in the queue.
 * What onDied heard once the queued shard died (or 20 s passed), then finish()'s results.
 */
async function run() {
  const reports: ShardReport[] = [];
  const died: { shard: number; e: Error; nodes: number }[] = [];
  const pool = new ShardPool(
    1,
    (r) => reports.push(r),
    undefined,
    (shard, e, nodes) => died.push({ shard, e, nodes }),
    piscinaOf(failing),
  );
  pool.launch([NodeId("n-1"), NodeId("n-2"), NodeId("n-3")], 2, 0, 0, common);
  const queuedDied = () => died.some((d) => d.shard === 1);
  for (let i = 0; i < 200 && !queuedDied(); i++) await new Promise((r) => setTimeout(r, 100));
  // Without its death the queued shard's task never settles, and finish() would wait for ever.
  expect(died.map((d) => [d.shard, d.nodes])).toEqual([
    [0, 2],
    [1, 1],
  ]);
  const results = await pool.finish();
  await pool.destroy();
  return { reports, died, results };
}

it("a queued shard dies of its thread's EMFILE at start, told as the open-files limit; no crash", async () => {
  const { reports, died, results } = await run();
  expect(crashes).toEqual([]);
  const queued = died[1];
  if (queued === undefined) throw new Error("no death");
  const line = threadDeathLine({ thread: "worker-1", atS: 0, nodes: queued.nodes, ...threadCause(queued.e) });
  expect(line).toBe(
    "worker thread 1 (1 nodes) died 0 s into the run, EMFILE: too many open files, open '/opt/x.js'; the process's open-files limit is too low: raise it before starting (as root `ulimit -n`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container; docs/cli.md, \"The open files a command needs to start\"): the run ended there",
  );
  expect(results).toEqual([]);
  expect(reports.filter((r) => r.type === "error")).toEqual([]);
}, 60_000);

it("a thread that fails as it starts for another reason: its shard dies of that error, in plain words", async () => {
  process.env.FAIL_AS = "plain";
  const { died } = await run();
  expect(crashes).toEqual([]);
  expect(died.map((d) => threadCause(d.e))).toEqual([
    { reason: "a module of the worker failed", outOfMemory: false },
    { reason: "a module of the worker failed", outOfMemory: false },
  ]);
}, 60_000);

it("Node's own failure to start a thread for the limit is told as the limit", () => {
  const e = Object.assign(new Error("Worker initialization failure: EMFILE"), {
    code: "ERR_WORKER_INIT_FAILED",
  });
  expect(threadCause(e).reason).toContain("the process's open-files limit is too low");
});
