/**
 * A run on `--twins-data` whose broker restarted since the run before: its twins service says so at
 * its first connection, before the run's view exists, and the console's and the page's log (the
 * view's first log listener, made after it) show that line, as a standalone service's page does.
 * Real sockets: the twinfleet broker on port 0, started again on the same port (a new start id).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { FleetOptions } from "../../fleet/options.js";
import { FleetRun } from "../../fleet/run.js";
import { SimSource } from "../sim-source.js";
import type { LogLine } from "../source.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A run of two nodes on `broker` and `twinsData`, watched as the CLI does: its view made once it has started. */
async function run(
  broker: string,
  twinsData: string,
): Promise<{ lines: LogLine[]; stop: () => Promise<void> }> {
  const opts: FleetOptions = {
    nodes: 2,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 30,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    broker,
    twinsData,
  };
  const r = await FleetRun.start(opts);
  const source = new SimSource(r);
  const lines: LogLine[] = [];
  source.on("log", (l) => lines.push(l)); // the page's or the console's, after the view is made
  const stop = async () => {
    source.close();
    r.stop();
    await r.done;
  };
  return { lines, stop };
}

it("logs the broker's restart since the run before, told as the run's twins service connected", async () => {
  const dir = await mkdtemp(join(tmpdir(), "view-sim-first-restart-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const first = await startBroker({ host: "127.0.0.1", port: 0 });
  const before = await run(first.url, dir);
  await before.stop();
  await first.close();
  const second = await startBroker({ host: "127.0.0.1", port: first.port });
  cleanup.push(() => second.close());
  const after = await run(second.url, dir);
  cleanup.push(after.stop);
  expect(after.lines.map((l) => l.text).filter((t) => t.includes("restarted"))).toEqual([
    "the broker restarted since the service before this one on its data directory read it (its start id changed): the statuses it replays are not counted online until their nodes are heard, offline when the will comes",
  ]);
}, 60_000);
