/**
 * What storing the last-seen dates each minute costs a twins service's event loop (docs/twins.md,
 * "When the host's clock steps"): a registry of `--nodes` twins, every one heard each minute, saved
 * by the service's own saver (twins/desire-saver.ts) to a real store in a temporary directory, on a
 * fake scheduler advanced a minute at a time. Per minute it prints the longest the event loop was
 * held (what a timer due then waits: the minutes history marks a minute down at 2 s), the whole
 * save's time, and the journal's and snapshot's bytes; then what a start's read of the store holds
 * it for. `--slice N`: records a whole snapshot takes and writes between two turns of the event
 * loop (twins/store-slices.ts; 0: all at once, as before it was sliced). `--compare`: the run with
 * `--slice 0`, then the one with `--slice`, their minutes side by side.
 *
 *   node --import tsx bench/seen-dates.ts [--nodes 20000] [--minutes 6] [--slice 2000] [--compare]
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { FakeScheduler } from "../node/scheduler.js";
import { Prefix } from "../protocol/index.js";
import { DATES_EVERY_MS, DesireSaver } from "../twins/desire-saver.js";
import { TwinRegistry } from "../twins/registry.js";
import { jsonFileStore, STORE_FILE } from "../twins/store.js";
import { JOURNAL_FILE } from "../twins/store-journal.js";
import { SLICE_RECORDS, type Slicing } from "../twins/store-slices.js";
import { datedState } from "../twins/stored-dates.js";
import { scratchDir } from "./scratch.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "20000" },
    minutes: { type: "string", default: "6" },
    slice: { type: "string", default: String(SLICE_RECORDS) },
    compare: { type: "boolean", default: false },
  },
});
const nodes = Number(values.nodes);
const minutes = Number(values.minutes);
const slice = Number(values.slice);
if (!Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(minutes) || minutes < 1) {
  console.error("seen-dates: --nodes and --minutes take whole numbers of 1 or more");
  process.exit(2);
}
if (!Number.isInteger(slice) || slice < 0) {
  console.error("seen-dates: --slice takes a whole number of records, 0 for all at once");
  process.exit(2);
}

const bytes = (file: string) =>
  stat(file).then(
    (s) => s.size,
    () => 0,
  );
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

// A 5 ms timer's longest wait past its due time: what the event loop held every other timer for.
let beat = performance.now();
let held = 0;
const heartbeat = setInterval(() => {
  const now = performance.now();
  held = Math.max(held, now - beat - 5);
  beat = now;
}, 5);

/** One run, `records` per slice; its lines, one a minute and the start's read last. */
async function run(records: number): Promise<string[]> {
  const slicing: Slicing = { records: records === 0 ? Number.POSITIVE_INFINITY : records };
  const lines: string[] = [];
  const dir = scratchDir("tf-seen-dates-");
  const sched = new FakeScheduler(0, Date.UTC(2026, 11, 7));
  const registry = new TwinRegistry(Prefix("tf"));
  const store = await jsonFileStore(dir, undefined, slicing);
  await store.load("tf");
  const saver = new DesireSaver(store, datedState(registry, sched, slicing), pino({ level: "silent" }), {
    scheduler: sched,
    gapMs: () => 0,
  });
  const ids = Array.from({ length: nodes }, (_, i) => `n-${String(i).padStart(6, "0")}`);
  const hearAll = () => {
    for (const id of ids) registry.receive(`tf/register/${id}`, "G1 sim uno-w5100 1.0.0", 1, sched.now());
  };
  hearAll();
  saver.save(); // the first save, whole: every node registered
  await saver.flush();
  lines.push(`snapshot ${await bytes(join(dir, STORE_FILE))} bytes`);
  for (let m = 1; m <= minutes; m++) {
    sched.advance(DATES_EVERY_MS / 2);
    hearAll();
    await turn();
    held = 0;
    const t0 = performance.now();
    const journal = await bytes(join(dir, JOURNAL_FILE));
    sched.advance(DATES_EVERY_MS / 2); // the minute's look at the nodes heard in it
    await saver.flush();
    const ms = performance.now() - t0;
    await turn();
    const after = await bytes(join(dir, JOURNAL_FILE));
    lines.push(
      `minute ${m}: held ${held.toFixed(0)} ms, save ${ms.toFixed(0)} ms${after < journal ? " (fold)" : ""}; journal ${after} bytes`,
    );
  }
  held = 0;
  let t0 = performance.now();
  await saver.close(); // the stop's last write: the journal folded in
  lines.push(`stop's write: held ${held.toFixed(0)} ms, save ${(performance.now() - t0).toFixed(0)} ms`);
  await store.close();
  await turn();
  held = 0;
  t0 = performance.now();
  const again = await jsonFileStore(dir, undefined, slicing);
  await again.load("tf");
  const ms = performance.now() - t0;
  await turn();
  lines.push(`start's read: held ${held.toFixed(0)} ms, read ${ms.toFixed(0)} ms`);
  await again.close();
  return lines;
}

console.log(`${nodes} nodes, each heard every minute`);
if (values.compare) {
  const before = await run(0);
  const now = await run(slice);
  const width = Math.max(...before.map((l) => l.length));
  console.log(`${"all at once (--slice 0)".padEnd(width)} | ${slice} records a slice`);
  before.forEach((l, i) => {
    console.log(`${l.padEnd(width)} | ${now[i] ?? ""}`);
  });
} else for (const l of await run(slice)) console.log(l);
clearInterval(heartbeat);
