/**
 * Whether a twins service's saver tells a healthy disk as stalled while it writes a whole snapshot
 * (docs/twins.md, "A bad disk"): a registry of `--nodes` twins saved by the service's own saver
 * (twins/desire-saver.ts) to a real store in a temporary directory, on the host's clock, as a
 * service does: its first write, then its stop's. `--busy MS`: the service's other work, MS ms of
 * the event loop's time every 10 ms (messages and answers served between two slices). Prints each
 * write's wall time, the longest the saver's judge timed one wait on the disk (a stall at 5 s),
 * and whether it judged the disk stalled (its ERROR, `/healthz`'s 503).
 *
 *   node --import tsx bench/save-stall.ts [--nodes 100000] [--busy 0]
 */
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Prefix } from "../protocol/index.js";
import { wallScheduler } from "../twins/clock.js";
import { DesireSaver } from "../twins/desire-saver.js";
import { TwinRegistry } from "../twins/registry.js";
import { jsonFileStore, type TwinsStore } from "../twins/store.js";
import type { DiskPace } from "../twins/store-journal.js";
import { datedState } from "../twins/stored-dates.js";
import { scratchDir } from "./scratch.js";

function args() {
  try {
    return parseArgs({
      options: { nodes: { type: "string", default: "100000" }, busy: { type: "string", default: "0" } },
    });
  } catch (e) {
    console.error(`save-stall: ${(e as Error).message}`);
    process.exit(2);
  }
}
const { values } = args();
const nodes = Number(values.nodes);
const busy = Number(values.busy);
if (!Number.isInteger(nodes) || nodes < 1 || !Number.isFinite(busy) || busy < 0 || busy >= 10) {
  console.error("save-stall: --nodes takes a whole number of 1 or more, --busy ms from 0 to under 10");
  process.exit(2);
}

let errors = 0;
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    if (chunk.toString().includes('"level":50')) errors++;
    done();
  },
});
const sched = wallScheduler;
const dir = scratchDir("tf-save-stall-");
const registry = new TwinRegistry(Prefix("tf"));
const real = await jsonFileStore(dir);
await real.load("tf");
/** The longest wait on the disk the store told (twins/store-journal.ts DiskPace), ms. */
let longestWait = 0;
const told = (pace: DiskPace | undefined): DiskPace => {
  let since: number | undefined = performance.now();
  return {
    idle() {
      if (since !== undefined) longestWait = Math.max(longestWait, performance.now() - since);
      since = undefined;
      pace?.idle();
    },
    disk() {
      since ??= performance.now();
      pace?.disk();
    },
  };
};
const store: TwinsStore = {
  ...real,
  save: async (state, journaled, pace) => {
    const p = told(pace);
    await real.save(state, journaled, p);
    p.idle();
  },
  append: async (changes, whole, pace) => {
    const p = told(pace);
    const walk = async () => {
      p.idle();
      const s = await whole();
      p.disk();
      return s;
    };
    await real.append?.(changes, walk, p);
    p.idle();
  },
};
const saver = new DesireSaver(store, datedState(registry, sched), pino({ level: "error" }, sink), {
  scheduler: sched,
  gapMs: () => 0,
});
for (let i = 0; i < nodes; i++)
  registry.receive(`tf/register/n-${String(i).padStart(6, "0")}`, "G1 sim uno-w5100 1.0.0", 1, sched.now());

// The service's other work between two slices; and how long the store is told behind, sampled.
const work =
  busy > 0
    ? setInterval(() => {
        const until = performance.now() + busy;
        while (performance.now() < until);
      }, 10)
    : undefined;
let behindMs = 0;
const sample = setInterval(() => {
  const since = saver.unsavedSince;
  if (since !== undefined) behindMs = Math.max(behindMs, sched.now() - since);
}, 50);

async function timed(what: string, write: () => Promise<void>): Promise<void> {
  errors = 0;
  behindMs = 0;
  longestWait = 0;
  const t0 = performance.now();
  await write();
  const ms = performance.now() - t0;
  console.log(
    `${what}: ${ms.toFixed(0)} ms, its longest wait on the disk ${longestWait.toFixed(0)} ms; stall judged: ${errors > 0 ? `yes (${errors} ERROR; /healthz 503 until the write ended, ${(behindMs / 1000).toFixed(1)} s after it began)` : "no"}`,
  );
}

console.log(`${nodes} nodes${busy > 0 ? `, ${busy} ms of other work every 10 ms` : ""}`);
await timed("first write", async () => {
  saver.save();
  await saver.flush();
});
await timed("stop's write", () => saver.close());
clearInterval(sample);
if (work) clearInterval(work);
await real.close();
