/**
 * A part of a virtual-time run split over threads whose thread dies out of memory: the run failed
 * with V8's bare `Worker terminated due to reaching memory limit: JS heap out of memory`, naming no
 * thread. It now says which part's thread, how many nodes, when and why, as a wall-time run does
 * (fleet/thread-death.ts). The error is the one Node emits on a Worker that reached its heap limit.
 */
import type { Worker } from "node:worker_threads";
import { expect, it } from "vitest";
import { resolveFleetOptions } from "../options.js";
import { planFleet } from "../setup.js";
import { PartDeathError, splitFleet, VirtualSplitRun } from "../virtual-split.js";

it("names the part whose thread ran out of memory, and ends the run", async () => {
  const options = {
    nodes: 16,
    topology: "ring" as const,
    groupSize: 8,
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 5,
    profile: "ideal",
    clock: "virtual" as const,
  };
  const opts = resolveFleetOptions(options);
  const { ids, pairing } = planFleet(opts);
  const ranges = splitFleet(ids, pairing, 2);
  expect(ranges).toEqual([
    [0, 8],
    [8, 16],
  ]);
  const run = VirtualSplitRun.start(opts, options, ranges);
  const workers = (run as unknown as { workers: Worker[] }).workers;
  const oom = Object.assign(
    new Error("Worker terminated due to reaching memory limit: JS heap out of memory"),
    {
      code: "ERR_WORKER_OUT_OF_MEMORY",
    },
  );
  workers[1]?.emit("error", oom);
  // The death itself, for the command to say that the run writes no report (cli/commands/sim-run.ts).
  const e = await run.done.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PartDeathError);
  expect((e as PartDeathError).death).toMatchObject({ thread: "worker-2", nodes: 8, outOfMemory: true });
  await expect(run.done).rejects.toThrow(
    /^worker thread 2 \(8 nodes\) died \d+ s into the run, out of memory: its JS heap reached its limit \(give the process more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes\): the run ended there$/,
  );
}, 60_000);
