/**
 * A browser test file's fixture for a site's fleet: a `twinfleet broker` process, a standalone
 * `twinfleet twins --http` beside it (with a token and a data directory of its own) and Debian's
 * Chromium, started before the file's tests and stopped after them; uncaught errors in its pages fail
 * the file. `startFleet` runs a `twinfleet sim --broker` against the broker until the file ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { cliArgs } from "../../../node/test/cli-command.js";
import {
  type BrokerProcess,
  type Browser,
  openBrowser,
  ROOT,
  startBrokerProcess,
  startTwinsProcess,
  type TwinsProcess,
} from "./harness.js";

export interface ServiceAndBrowser {
  readonly broker: BrokerProcess;
  readonly twins: TwinsProcess;
  readonly browser: Browser;
  /**
   * `twinfleet sim --broker … --headless --nodes N` with `args` after, never pressing, for an hour;
   * resolves once all N registered. Killed (SIGKILL) at the file's end if still running.
   */
  startFleet(nodes: number, args: readonly string[]): Promise<ChildProcess>;
}

export function serviceAndBrowser(o: {
  readonly token: string;
  readonly dataPrefix: string;
}): ServiceAndBrowser {
  let broker: BrokerProcess | undefined;
  let twins: TwinsProcess | undefined;
  let browser: Browser | undefined;
  const sims: ChildProcess[] = [];
  const data = mkdtempSync(join(tmpdir(), o.dataPrefix));
  beforeAll(async () => {
    broker = await startBrokerProcess();
    twins = await startTwinsProcess(broker.brokerUrl, data, ["--http-token", o.token]);
    browser = await openBrowser();
  });
  afterAll(async () => {
    const errors = browser?.errors() ?? [];
    await browser?.close();
    for (const sim of sims) if (sim.exitCode === null && sim.signalCode === null) sim.kill("SIGKILL");
    await twins?.stop();
    await broker?.stop();
    rmSync(data, { recursive: true, force: true });
    expect(errors, "uncaught errors in the page").toEqual([]);
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined)
      throw new Error("the broker, the twins service and the browser start before the file's tests");
    return x;
  };
  return {
    get broker() {
      return started(broker);
    },
    get twins() {
      return started(twins);
    },
    get browser() {
      return started(browser);
    },
    startFleet(nodes, args) {
      const all = [
        "sim",
        "--broker",
        started(broker).brokerUrl,
        "--headless",
        "--nodes",
        String(nodes),
        ...args,
      ];
      const child = spawn(
        process.execPath,
        [...cliArgs(), ...all, "--rate", "0", "--duration", "3600", "--progress-every", "1"],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      sims.push(child);
      const registered = new RegExp(`registered ${nodes}/${nodes}`);
      let log = "";
      return new Promise((resolve, reject) => {
        const read = (d: Buffer) => {
          log += d.toString();
          if (registered.test(log)) resolve(child);
        };
        child.stdout?.on("data", read);
        child.stderr?.on("data", read);
        child.once("exit", (code) => reject(new Error(`sim exited (${code}):\n${log}`)));
      });
    },
  };
}
