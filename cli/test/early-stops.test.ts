/**
 * SIGTERM to a service or a run that has just started, and a second one during the stop: each in a
 * process of its own, sent the signal the moment its data directory shows it has begun (the twins'
 * lock written, the broker's LevelDB opened), before it listens. Node's default for the signal used
 * to end the process there — by the signal, with the lock left — and ended it again at a second
 * SIGTERM or Ctrl-C during the stop. Judged by the exit code and the files left, not by timing.
 * (Two signals sent at once may be handled in either order: the line names the second handled.)
 * The second stop is handled in this process (two signals sent to a child may come apart by more
 * than a stop takes, the sender descheduled between them on a busy host).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { runBrokerCommand } from "../../broker/command.js";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { stopsHeld } from "../early-hang-ups.js";
import { main } from "../main.js";
import { Spawned } from "./spawned.js";

const spawned = new Spawned("stops");
const twinfleet = (args: string[]) => spawned.twinfleet(args);
const scratch = () => spawned.scratch();
let broker: RunningBroker | undefined;
afterEach(async () => {
  await spawned.cleanUp();
  await broker?.close();
  broker = undefined;
});

/** Sends `signal` the moment `file` exists: the command has begun taking what it must give back. */
async function signalOnceThere(child: ChildProcess, file: string, signal: NodeJS.Signals): Promise<void> {
  await expect.poll(() => existsSync(file), { timeout: 60_000, interval: 1 }).toBe(true);
  child.kill(signal);
}

/** What a twins data directory holds besides its store: a lock or a save's temporary file. */
const leftovers = async (dir: string) =>
  (await readdir(dir)).filter((f) => f === "twins.lock" || f.endsWith(".tmp"));

describe("stopsHeld", () => {
  it("holds SIGINT and SIGTERM for the services and monitor, SIGHUP too for a run, nothing for the others", () => {
    expect(stopsHeld(["broker", "--port", "0"])).toEqual(["SIGINT", "SIGTERM"]);
    expect(stopsHeld(["--log-level", "debug", "twins"])).toEqual(["SIGINT", "SIGTERM"]);
    expect(stopsHeld(["sim", "--headless"])).toEqual(["SIGINT", "SIGTERM", "SIGHUP"]);
    // The console, or its page served alone: a SIGTERM while it loaded ended it by the signal (143).
    expect(stopsHeld(["monitor", "--demo"])).toEqual(["SIGINT", "SIGTERM"]);
    expect(stopsHeld(["nodes", "--broker", "mqtt://h"])).toEqual([]);
    expect(stopsHeld(["--version"])).toEqual([]);
  });
});

describe("a stop that comes while the command starts", () => {
  it("twinfleet twins stops cleanly once started: exit 0, its lock removed", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const data = join(await scratch(), "twins");
    const t = twinfleet(["twins", "--broker", broker.url, "--data", data, "--http", "127.0.0.1:0"]);
    await signalOnceThere(t.child, join(data, "twins.lock"), "SIGTERM");
    expect(await t.ended, t.out()).toEqual({ code: 0, signal: null });
    expect(await leftovers(data)).toEqual([]);
  }, 90_000);

  it("twinfleet broker stops cleanly: exit 0", async () => {
    const data = join(await scratch(), "broker");
    const b = twinfleet(["broker", "--host", "127.0.0.1", "--port", "0", "--data", data]);
    await signalOnceThere(b.child, join(data, "CURRENT"), "SIGTERM");
    expect(await b.ended, b.out()).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("twinfleet sim --broker is cut short: exit 130, the twins' lock removed", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const data = join(await scratch(), "twins");
    const args = ["sim", "--broker", broker.url, "--nodes", "3", "--headless", "--duration", "30"];
    const s = twinfleet([...args, "--twins-data", data, "--fresh"]);
    await signalOnceThere(s.child, join(data, "twins.lock"), "SIGTERM");
    expect(await s.ended, s.out()).toEqual({ code: 130, signal: null });
    expect(await leftovers(data)).toEqual([]);
  }, 90_000);
});

describe("a second stop while the service stops", () => {
  it("twinfleet twins says its stop is under way and ends it as the first asked: exit 0, no lock", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const data = join(await scratch(), "twins");
    const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
    let err = "";
    const ran = main(["twins", "--broker", broker.url, "--data", data], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
      },
    });
    await expect.poll(() => err, { timeout: 60_000 }).toMatch(/twins: watching the fleet/);
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGINT", "SIGINT");
    expect(await ran, err).toBe(0);
    expect(err).toMatch(/SIGINT: the twins service is stopping already/);
    expect(await leftovers(data)).toEqual([]);
    expect({ int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") }).toEqual(before);
  }, 90_000);

  // A broker without --data closes in some 40 ms: two signals sent to a child would often find it over.
  it("twinfleet broker says its stop is under way and ends it", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
    const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
    let listening: () => void = () => {};
    const up = new Promise<void>((resolve) => {
      listening = resolve;
    });
    const done = runBrokerCommand({ host: "127.0.0.1", port: 0 }, { logger, onListening: () => listening() });
    await up;
    process.emit("SIGINT", "SIGINT");
    process.emit("SIGTERM", "SIGTERM");
    await done;
    expect(lines.filter((l) => l.includes("stopping already"))).toEqual([
      "SIGTERM: the broker is stopping already (closing its connections, then its store); it ends once they are closed (SIGKILL ends it at once)",
    ]);
    // Done: it listens no more.
    expect({ int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") }).toEqual(before);
  });
});
