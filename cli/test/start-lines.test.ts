/**
 * A run's start told while it lasts, and a stop during it answered at once (cli/start-lines.ts,
 * cli/early-hang-ups.ts). `sim --broker … --nodes 15000` waited for ever on its claim's connection,
 * which the broker had cut, printing nothing; a SIGTERM was held for the start (and `timeout` sends
 * one), so only SIGKILL ended it. Now every progress interval says the step under way, a stop is
 * answered with the step it ends, a second stop ends the process at once and the first within a bound.
 * The waits here are the run's wait for ids a broker keeps online (up to 23.5 s), in processes of
 * their own; judged by the lines and the exit codes, not by timing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { ROOT } from "../../console/test/tmux.js";
import { startable } from "../../node/paths.js";
import { Spawned } from "./spawned.js";

const spawned = new Spawned("start-lines");
let broker: RunningBroker | undefined;
/** The processes of startThatNeverEnds(), killed after each test (one that failed left them running). */
const held: ChildProcess[] = [];
afterEach(async () => {
  for (const c of held.splice(0)) c.kill("SIGKILL");
  await spawned.cleanUp();
  await broker?.close();
  broker = undefined;
});

/** A broker keeping `ids` online (statuses without their wills): a run of them waits 23.5 s. */
async function brokerWithOnline(ids: readonly string[]): Promise<string> {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const tool = await mqtt.connectAsync(broker.url);
  for (const id of ids) await tool.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  await tool.endAsync();
  return broker.url;
}

it("twinfleet sim tells its start's step every progress interval, and a SIGTERM the step it ends", async () => {
  const url = await brokerWithOnline(["n-0000", "n-0001"]);
  const args = ["sim", "--broker", url, "--nodes", "2", "--headless", "--progress-every", "1"];
  const { child, out, ended } = spawned.twinfleet([...args, "--duration", "30"]);
  // Before, nothing but the warning until the wait was over.
  await expect
    .poll(() => out(), { timeout: 60_000 })
    .toMatch(
      /twinfleet sim: starting \(\d+ s\): checking that the fleet's 2 ids are offline on the broker; the progress lines begin once the nodes boot/,
    );
  child.kill("SIGTERM");
  expect(await ended, out()).toEqual({ code: 130, signal: null });
  expect(out()).toMatch(
    /twinfleet sim: SIGTERM: stopping the start \(it was checking that the fleet's 2 ids are offline on the broker\); nothing has run; a second stop ends it at once/,
  );
}, 90_000);

it("twinfleet sim --shard tells its start's step too", async () => {
  const url = await brokerWithOnline(["n-0000", "n-0002"]);
  const report = `${await spawned.scratch()}/s1.json`;
  const args = ["sim", "--broker", url, "--nodes", "4", "--shard", "1/2", "--shard-report", report];
  const { child, out, ended } = spawned.twinfleet([...args, "--progress-every", "1", "--duration", "30"]);
  await expect
    .poll(() => out(), { timeout: 60_000 })
    .toMatch(/twinfleet sim: starting \(\d+ s\): checking that the shard's 2 ids are offline on the broker/);
  child.kill("SIGTERM");
  expect(await ended, out()).toEqual({ code: 130, signal: null });
  expect(out()).toMatch(/SIGTERM: stopping the start \(it was checking that the shard's 2 ids are offline/);
}, 90_000);

/** A process holding its stops for a start told of them that never ends (cli/early-hang-ups.ts). */
function startThatNeverEnds() {
  const mod = startable("cli/early-hang-ups");
  const script = `
    const { holdStops, whileStarting } = await import(${JSON.stringify(mod.url.href)});
    holdStops(["SIGINT", "SIGTERM"]);
    whileStarting(() => process.stdout.write("told\\n"), { name: "twinfleet sim", doing: () => "claiming the fleet's ids" });
    setInterval(() => {}, 1000);
    process.stdout.write("ready\\n");`;
  const child = spawn(process.execPath, [...mod.execArgv, "--input-type=module", "-e", script], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  held.push(child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, ended };
}

it("a second stop during a start that does not end ends the process at once (a third did)", async () => {
  const p = startThatNeverEnds();
  await expect.poll(() => p.out(), { timeout: 60_000 }).toMatch(/ready/);
  p.child.kill("SIGTERM");
  await expect.poll(() => p.out(), { timeout: 60_000 }).toMatch(/told/);
  p.child.kill("SIGINT");
  expect(await p.ended, p.out()).toEqual({ code: 130, signal: null });
  expect(p.out()).toContain(
    "twinfleet sim: SIGINT again: ending the start at once (it was claiming the fleet's ids); nothing ran",
  );
}, 90_000);

it("the first stop ends a start that does not end within the bound", async () => {
  const p = startThatNeverEnds();
  await expect.poll(() => p.out(), { timeout: 60_000 }).toMatch(/ready/);
  p.child.kill("SIGTERM");
  expect(await p.ended, p.out()).toEqual({ code: 130, signal: null });
  expect(p.out()).toContain(
    "twinfleet sim: the start did not end 10 s after the SIGTERM (it was claiming the fleet's ids): ending now; nothing ran",
  );
}, 90_000);
