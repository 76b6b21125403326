// A run's embedded broker that does not start (its --broker-data directory on a full disk, or a file
// where the directory should be): the run fails with the broker's error and its broker thread is let
// go. Left running, the thread kept `twinfleet sim` alive after the error was printed, until killed.
// A run's own data directories are made before its broker starts: one that cannot be is refused first.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it, vi } from "vitest";
import { wallScheduler } from "../../twins/clock.js";
import { openBrokerHost } from "../broker-host.js";
import { BrokerThreadHost } from "../broker-thread.js";
import { resolveFleetOptions } from "../options.js";
import { prepareFleet } from "../setup.js";

let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("closes the broker thread whose broker could not start on its data directory", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-broker-host-"));
  const file = join(dir, "not-a-dir");
  await writeFile(file, "x");
  const close = vi.spyOn(BrokerThreadHost.prototype, "close");
  await expect(
    openBrokerHost({ dataDir: file, logger: pino({ level: "silent" }), scheduler: wallScheduler }),
  ).rejects.toThrow(`data directory ${file} cannot be created: EEXIST`);
  expect(close).toHaveBeenCalledTimes(1);
  await close.mock.results[0]?.value;
});

it("refuses a run's data directory that cannot be made before its broker thread starts", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-broker-host-"));
  const file = join(dir, "not-a-dir");
  await writeFile(file, "x");
  const start = vi.spyOn(BrokerThreadHost.prototype, "start");
  const logger = pino({ level: "silent" });
  for (const opts of [{ brokerData: file }, { twinsData: join(file, "twins") }]) {
    const why = opts.brokerData === undefined ? "ENOTDIR" : "EEXIST";
    await expect(prepareFleet(resolveFleetOptions(opts), logger, wallScheduler)).rejects.toThrow(
      `data directory ${opts.brokerData ?? opts.twinsData} cannot be created: ${why}`,
    );
  }
  // Before, a broker thread started on it (1.8 s under the test runner), and was stopped again.
  expect(start).not.toHaveBeenCalled();
});
