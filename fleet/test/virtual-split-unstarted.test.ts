/**
 * A virtual run split over threads whose second part's thread Node will not make (`new Worker`
 * throws): the run fails at once, naming the part, and the thread made before it is ended. It failed
 * with Node's bare error, and only after the whole fleet's pairing had been desired (minutes on a
 * large fleet), the first part's thread running meanwhile.
 */
import { afterEach, expect, it, vi } from "vitest";
import { resolveFleetOptions } from "../options.js";
import { planFleet } from "../setup.js";
import { splitFleet, VirtualSplitRun } from "../virtual-split.js";

const made = vi.hoisted(() => ({ threads: [] as { terminate: () => Promise<number> }[] }));

vi.mock("node:worker_threads", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:worker_threads")>();
  const { EventEmitter } = await import("node:events");
  class RefusedSecond extends EventEmitter {
    readonly terminate = vi.fn(async () => 1);
    postMessage(): void {}
    constructor() {
      super();
      if (made.threads.length === 1) throw new Error("ERR_WORKER_INIT_FAILED: no memory for an isolate");
      made.threads.push(this);
    }
  }
  return { ...real, Worker: RefusedSecond };
});

afterEach(() => {
  vi.restoreAllMocks();
  made.threads.length = 0;
});

it("fails at once naming the part whose thread was not made, and ends the threads made", async () => {
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
  expect(ranges).toHaveLength(2);
  const desired = vi.spyOn(
    VirtualSplitRun.prototype as unknown as { desiredAt: () => Promise<number> },
    "desiredAt",
  );
  const run = VirtualSplitRun.start(opts, options, ranges);
  await expect(run.done).rejects.toThrow(
    "part 2 of 2 (8 nodes): its thread could not be started: ERR_WORKER_INIT_FAILED: no memory for an isolate",
  );
  expect(made.threads).toHaveLength(1);
  expect(made.threads[0]?.terminate).toHaveBeenCalled();
  // The whole fleet's pairing (a twins service of every node) was not desired for a run that cannot be.
  expect(desired).not.toHaveBeenCalled();
});
