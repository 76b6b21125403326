/**
 * Modeled CPU utilization of one simulated node (fake time, in-memory broker): idle, and pressed
 * once per second, for each profile given (default uno-w5100).
 *   npx tsx bench/node-cpu.ts [profile…]
 */
import { FakeScheduler, type NodeStats, SimNode } from "../node/index.js";
import { MemoryBroker } from "../sim/memory-broker.js";

const MINUTES = 10;

function run(profile: string, pressed: boolean): NodeStats {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched);
  const n = new SimNode({ id: "bench", seed: "bench", profile, sched, wire: broker.wire() });
  n.start();
  sched.runUntil(5_000); // connected and synced
  if (pressed)
    n.addPresses({ kind: "script", times: Array.from({ length: MINUTES * 60 }, (_, i) => 5_000 + i * 1000) });
  const a = n.stats();
  sched.runUntil(5_000 + MINUTES * 60_000);
  const b = n.stats();
  n.stop();
  const d = (k: "workCycles" | "blockedCycles" | "pollCycles" | "elapsedCycles") => b.cpu[k] - a.cpu[k];
  const elapsed = d("elapsedCycles");
  return {
    ...b,
    cpu: {
      workCycles: d("workCycles"),
      blockedCycles: d("blockedCycles"),
      pollCycles: d("pollCycles"),
      elapsedCycles: elapsed,
      utilization: (d("workCycles") + d("blockedCycles")) / elapsed,
      utilizationWithPolling: (d("workCycles") + d("blockedCycles") + d("pollCycles")) / elapsed,
    },
  };
}

const profiles = process.argv.slice(2);
for (const profile of profiles.length ? profiles : ["uno-w5100"]) {
  for (const pressed of [false, true]) {
    const s = run(profile, pressed);
    const c = s.cpu;
    console.log(
      `${profile.padEnd(10)} ${pressed ? "1 press/s" : "idle     "}  busy ${(c.utilization * 100).toFixed(4)}%` +
        `  (work ${c.workCycles.toFixed(0)} + blocked ${c.blockedCycles.toFixed(0)} of ${c.elapsedCycles.toExponential(3)} cycles over ${MINUTES} min)` +
        `  with idle polling ${(c.utilizationWithPolling * 100).toFixed(2)}%`,
    );
  }
}
