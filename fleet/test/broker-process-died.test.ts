// A run's broker in its own process (`sim --broker-process`, fleet/broker-host.ts) that dies without
// being asked — an operator's `kill -9`, the OOM killer — is gone: the run's close and a broker-restart
// fault's kill wait for nothing, the fault's start spawns it again on the same port, and the log says
// it died. Both waited for an exit that had already happened (a process killed by a signal has no exit
// code): the run hung at its end and Node ended it with exit code 13, no summary and no report.
import { connect } from "node:net";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { wallScheduler } from "../../twins/clock.js";
import { ProcessBroker } from "../broker-host.js";
import { limitForStarts } from "./start-limit.js";

let broker: ProcessBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** Whether something accepts a TCP connection on the port. */
function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Whether the process is gone (reaped: not even a zombie). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function killedFromOutside(): Promise<{ b: ProcessBroker; lines: { level: number; msg: string }[] }> {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const b = new ProcessBroker(undefined, wallScheduler, undefined, logger);
  broker = b;
  await b.start();
  const pid = b.pid as number;
  expect(await listens(b.port)).toBe(true);
  process.kill(pid, "SIGKILL");
  await expect.poll(() => gone(pid)).toBe(true);
  return { b, lines };
}

it(
  "closes at once after its process was killed from outside, and says it died",
  async () => {
    const { b, lines } = await killedFromOutside();
    await b.close();
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
      "the broker process exited by itself (killed by SIGKILL): the run does not start it again, only a broker-restart fault does",
    ]);
  },
  limitForStarts(1),
);

it(
  "is started again by a broker-restart after its process was killed from outside",
  async () => {
    const { b } = await killedFromOutside();
    const port = b.port;
    expect(await listens(port)).toBe(false);
    await b.kill(); // the fault's kill: nothing left to kill
    await b.start();
    expect(b.port).toBe(port);
    expect(await listens(port)).toBe(true);
    // Two starts of the broker process.
  },
  limitForStarts(2),
);
