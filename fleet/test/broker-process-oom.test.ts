/**
 * A run's broker in its own process (`sim --broker-process`) that dies out of memory: V8 writes its
 * fatal error on the process's stderr and aborts it. That was told as `killed by SIGABRT`, measured as
 * a broker outage `not back by the end` while the run went on to its end and exited 0. Now its death
 * is named out of memory and ends the run there, as the embedded broker's thread's does
 * (fleet/thread-death.ts); a kill from outside stays an outage the run measures
 * (broker-process-died.test.ts). The process here is the real broker under a shell that, on SIGUSR1,
 * writes V8's words and aborts it as V8 does (a broker's heap fills only slowly from outside: a
 * message's payload is outside the JS heap).
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { wallScheduler } from "../../twins/clock.js";
import { ProcessBroker } from "../broker-host.js";
import { runDeaths, startDeaths } from "../thread-death.js";
import { limitForStarts } from "./start-limit.js";

let broker: ProcessBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const V8_OOM = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory";
/** The broker (`"$@"`, its stdin kept) under a shell that ends it as V8 ends a process out of memory. */
const aborting = [
  "sh",
  "-c",
  `trap 'echo "${V8_OOM}" >&2; kill -9 $p; trap - ABRT; kill -ABRT $$' USR1; "$@" <&0 & p=$!; wait $p; wait $p`,
  "sh",
];

it(
  "a death out of memory is named so, and ends the run there",
  async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const place = { prefix: aborting, listen: "127.0.0.1", urlHost: "127.0.0.1" };
    const b = new ProcessBroker(undefined, wallScheduler, place, logger);
    broker = b;
    await b.start();
    const logged: string[] = [];
    let ended: () => void = () => {};
    const cut = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const run = { emit: (_: "log", line: string) => void logged.push(line), cut: () => ended() };
    const deaths = runDeaths(run, b, () => 7);
    process.kill(b.pid as number, "SIGUSR1");
    // Before, nothing ended the run: it measured an outage until its end.
    await cut;
    expect(deaths.first).toMatchObject({ thread: "broker-process", outOfMemory: true, atS: 7 });
    expect(logged).toEqual([
      "the broker's process died 7 s into the run, out of memory: its JS heap reached its limit (give the process more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes): the run ended there",
    ]);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toContain(
      "the broker process exited by itself (out of memory: its JS heap reached its limit, killed by SIGABRT; give it more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes): the run does not start it again, only a broker-restart fault does",
    );
  },
  limitForStarts(1),
);

it(
  "out of memory before it listens: the start's failure names it, not V8's stack trace",
  async () => {
    const dying = [
      "sh",
      "-c",
      `echo "${V8_OOM}" >&2; echo " 1: 0xb78db3 node::OOMErrorHandler" >&2; kill -ABRT $$`,
      "sh",
    ];
    const place = { prefix: dying, listen: "127.0.0.1", urlHost: "127.0.0.1" };
    const b = new ProcessBroker(undefined, wallScheduler, place);
    broker = b;
    // Before: `exited with null: …` and the tail of V8's native stack trace.
    await expect(b.start()).rejects.toThrow(
      "the broker process did not start: out of memory: its JS heap reached its limit, killed by SIGABRT; give it more heap: NODE_OPTIONS=--max-old-space-size=MB",
    );
  },
  limitForStarts(1),
);

it(
  "out of memory while the run starts: the start's failure is the death, not the twins' word on it",
  async () => {
    const place = { prefix: aborting, listen: "127.0.0.1", urlHost: "127.0.0.1" };
    const b = new ProcessBroker(undefined, wallScheduler, place, pino({ level: "silent" }));
    broker = b;
    await b.start();
    const deaths = startDeaths(b, () => 3);
    const died = new Promise<void>((resolve) => b.onDied(() => resolve()));
    process.kill(b.pid as number, "SIGUSR1");
    await died;
    expect(deaths.died).toBe(true);
    const twins = new Error("cannot reach the broker at mqtt://127.0.0.1:1: connection reset");
    expect(String(deaths.error(twins))).toBe(
      "Error: the broker's process died 3 s into the run, out of memory: its JS heap reached its limit (give the process more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes): the run ended there, before its nodes started: nothing was measured",
    );
  },
  limitForStarts(1),
);
