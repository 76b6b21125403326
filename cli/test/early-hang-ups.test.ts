/**
 * SIGHUP to a service from the process's first lines on: `twinfleet broker` and `twinfleet twins`,
 * each in a process of its own, sent SIGHUP as soon as the process holds it (its SigCgt in /proc),
 * long before it listens. Node's default for the signal used to end both at once, without a line:
 * the broker until its command had loaded (1.2 s on an idle host, 3 to 5 s on a busy one), the twins
 * service at any time.
 */
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { holdsHangUps } from "../early-hang-ups.js";
import { Spawned } from "./spawned.js";

const spawned = new Spawned("hangup");
const twinfleet = (args: string[]) => spawned.twinfleet(args, "ignore");
const scratch = () => spawned.scratch();
let broker: RunningBroker | undefined;
afterEach(async () => {
  await spawned.cleanUp();
  await broker?.close();
  broker = undefined;
});

/** Whether the process has a handler for SIGHUP (bit 0 of SigCgt); false once it is gone. */
async function catchesHangUp(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & 1n) === 1n;
}

/** Sends SIGHUP the moment the process holds it: before, it would have ended it. */
async function hangUpAsSoonAsHeld(child: ChildProcess): Promise<void> {
  const pid = child.pid ?? 0;
  await expect.poll(() => catchesHangUp(pid), { timeout: 60_000, interval: 1 }).toBe(true);
  child.kill("SIGHUP");
}

describe("holdsHangUps", () => {
  it("holds for broker and twins, named after the CLI's own options, and for no other command", () => {
    expect(holdsHangUps(["broker", "--port", "0"])).toBe(true);
    expect(holdsHangUps(["--log-level", "debug", "--log-format=json", "twins", "--broker", "x"])).toBe(true);
    expect(holdsHangUps(["sim", "--broker", "mqtt://h"])).toBe(false);
    expect(holdsHangUps(["--log-level", "broker", "sim"])).toBe(false);
    expect(holdsHangUps(["--version"])).toBe(false);
  });
});

describe("a service sent SIGHUP while it starts", () => {
  it("twinfleet broker goes on, says the files were not read yet, answers the next one once it listens, and stops on SIGTERM", async () => {
    const data = join(await scratch(), "data");
    const b = twinfleet(["broker", "--host", "127.0.0.1", "--port", "0", "--data", data]);
    await hangUpAsSoonAsHeld(b.child);
    await expect.poll(() => b.out(), { timeout: 60_000 }).toMatch(/twinfleet broker listening on/);
    expect(b.out()).toMatch(
      /SIGHUP while the process started, before the files were read: nothing to reload/,
    );
    b.child.kill("SIGHUP");
    await expect.poll(() => b.out()).toMatch(/SIGHUP: nothing to reload \(the broker was started without/);
    b.child.kill("SIGTERM");
    expect(await b.ended).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("twinfleet twins goes on, says it reloads nothing, and stops on SIGTERM", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const t = twinfleet(["twins", "--broker", broker.url, "--data", join(await scratch(), "twins")]);
    await hangUpAsSoonAsHeld(t.child);
    await expect.poll(() => t.out(), { timeout: 60_000 }).toMatch(/twins: watching the fleet/);
    t.child.kill("SIGHUP");
    const said = () => t.out().match(/SIGHUP: the twins service reloads nothing and goes on/g)?.length;
    await expect.poll(said).toBe(2);
    t.child.kill("SIGTERM");
    expect(await t.ended).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("twinfleet broker and twins take no notice of SIGUSR1 and SIGUSR2: no debugger opened, no end", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const b = twinfleet(["broker", "--host", "127.0.0.1", "--port", "0"]);
    const t = twinfleet(["twins", "--broker", broker.url, "--data", join(await scratch(), "twins")]);
    await expect.poll(() => b.out(), { timeout: 60_000 }).toMatch(/twinfleet broker listening on/);
    await expect.poll(() => t.out(), { timeout: 60_000 }).toMatch(/twins: watching the fleet/);
    for (const p of [b, t]) {
      p.child.kill("SIGUSR1");
      p.child.kill("SIGUSR2");
    }
    await expect
      .poll(() => b.out())
      .toMatch(/SIGUSR2: the broker does nothing on it and goes on \(SIGHUP reloads its files/);
    await expect.poll(() => t.out()).toMatch(/SIGUSR2: the twins service does nothing on it and goes on/);
    for (const p of [b, t]) {
      // Node's default for SIGUSR1 opens its debugger on 127.0.0.1:9229 for any local user.
      expect(p.out()).not.toMatch(/Debugger listening/);
      expect(p.out()).toMatch(/SIGUSR1: the .* does nothing on it/);
      p.child.kill("SIGTERM");
      expect(await p.ended).toEqual({ code: 0, signal: null });
    }
  }, 90_000);
});
