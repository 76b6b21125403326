// The workflow the README suggests for real boards, run as users run it: `twinfleet broker --data`
// and `twinfleet twins` in their own processes, then `twinfleet sim --broker` joining them — twice on
// the same broker, with 20 and then 200 nodes. Every node registers, the run joins the running twins
// service instead of fighting it, and the twins log no bad input. How long registration takes (the
// paper's 30 s) is `bench/fleet.ts`'s to measure: here, on a host shared with the other tests, it is
// about 2 s, and once took 31.7 s under a load average of 13.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { cliArgs } from "../../node/test/cli-command.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { runFleet } from "../run.js";

let dir: string;
let broker: BrokerHost;
let twins: ChildProcess;
let twinsLog = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tf-standalone-"));
  // The broker as `twinfleet broker --data` in its own process (what --broker-process starts).
  broker = await openBrokerHost({
    process: true,
    dataDir: join(dir, "broker"),
    logger: pino({ level: "silent" }),
    scheduler: new RealScheduler(),
  });
  twins = spawn(
    process.execPath,
    [...cliArgs(), "--log-format", "json", "twins", "--broker", broker.url, "--data", join(dir, "twins")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  twins.stdout?.on("data", (b: Buffer) => {
    twinsLog += b.toString();
  });
  await new Promise<void>((resolve, reject) => {
    // From the TypeScript sources: a start takes seconds, and a loaded host can make it 20 or more.
    const timer = setTimeout(() => reject(new Error(`twinfleet twins did not start: ${twinsLog}`)), 60_000);
    twins.stderr?.on("data", (b: Buffer) => {
      twinsLog += b.toString();
      if (twinsLog.includes("connected and queried")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}, 150_000);

afterAll(async () => {
  twins?.kill("SIGTERM");
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("broker --data + twins + sim --broker", () => {
  it.each([20, 200])(
    "%i nodes register beside a standalone twins service",
    async (nodes) => {
      const r = await runFleet({
        broker: broker.url,
        nodes,
        ratePerNodePerMin: 6,
        durationS: 3,
        settleS: 2,
        workers: 2,
        seed: "standalone",
      });
      expect(r.scenario.twins).toBe("joined");
      expect(r.registration.registered).toBe(nodes);
      expect(r).toMatchObject({ lostForGood: 0, regressions: 0, diverged: 0 });
      expect(twinsLog).not.toMatch(/bad input/);
      expect(twinsLog).not.toMatch(/"level":[4-6]0/);
    },
    120_000,
  );
});
