/**
 * A stop while `twinfleet sim --broker` (a whole fleet or a shard of one) waits for its ids in use to go offline (up to 23.5 s): in a
 * process of its own, sent SIGTERM once its line says it waits. It used to be answered only once the
 * wait was over, the nodes then started and cut short; it ends the run there now, nothing run.
 * Judged by the exit code and the lines, not by timing.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { Spawned } from "./spawned.js";

const spawned = new Spawned("ids-wait");
let broker: RunningBroker | undefined;
afterEach(async () => {
  await spawned.cleanUp();
  await broker?.close();
  broker = undefined;
});

it("twinfleet sim --broker ends there: exit 130, nothing run, no report", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  // Statuses a broker kept without their wills: the run waits 23.5 s for them to go offline.
  const tool = await mqtt.connectAsync(broker.url);
  for (const id of ["n-0000", "n-0001"])
    await tool.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  await tool.endAsync();
  const args = ["sim", "--broker", broker.url, "--nodes", "2", "--headless", "--duration", "30"];
  const { child, out, ended } = spawned.twinfleet(args);
  await expect.poll(() => out(), { timeout: 60_000 }).toMatch(/waiting up to 23\.5 s/);
  child.kill("SIGTERM");
  expect(await ended, out()).toEqual({ code: 130, signal: null });
  expect(out()).toMatch(
    /twinfleet sim: SIGTERM: stopped while waiting for the fleet's ids to go offline: nothing ran/,
  );
  // Before, the stop was answered once the wait was over: the nodes started, cut short, a summary.
  expect(out()).not.toMatch(/STOPPED EARLY|nodes \(uno-w5100\)/);
}, 90_000);

it("twinfleet sim --shard ends there too: exit 130, nothing run, no shard report", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  // Shard 1 of 2 runs n-0000 and n-0002: both kept online.
  const tool = await mqtt.connectAsync(broker.url);
  for (const id of ["n-0000", "n-0002"])
    await tool.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  await tool.endAsync();
  const report = join(await spawned.scratch(), "shard-1.json");
  const args = ["sim", "--broker", broker.url, "--nodes", "4", "--shard", "1/2", "--shard-report", report];
  const { child, out, ended } = spawned.twinfleet([...args, "--duration", "30"]);
  await expect.poll(() => out(), { timeout: 60_000 }).toMatch(/waiting up to 23\.5 s/);
  child.kill("SIGTERM");
  // Before, the wait ran out and the shard was refused (exit 1), or it never ended.
  expect(await ended, out()).toEqual({ code: 130, signal: null });
  expect(out()).toMatch(
    /twinfleet sim: SIGTERM: stopped while waiting for the fleet's ids to go offline: nothing ran/,
  );
  expect(out()).not.toMatch(/cut short|stayed online|registered/);
  expect(existsSync(report)).toBe(false);
}, 90_000);
