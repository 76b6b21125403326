/**
 * A short seeded fuzz soak against the in-process broker: a fixed set of generated connection
 * scripts (bench/fuzz: valid, mutated, truncated and random packet streams, silent, half-sent and
 * non-reading sockets), many at once, while a healthy client keeps publishing QoS 1 to itself. The
 * broker must throw nothing, answer or close every fuzz connection, and keep the healthy client's
 * round trips going during and after. The long version is `npm run bench -- fuzz`.
 */
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { type ConnectionResult, runFuzz } from "./fuzz/driver.js";
import { HealthyClient } from "./fuzz/healthy.js";
import { type ScriptKind, scriptFor } from "./fuzz/scripts.js";

const SEED = "fuzz-test-1";
const CONNECTIONS = 300;
/**
 * The test's time limit, by its connections: 300 scripts' packets generated, sent, parsed and
 * answered, 100 at a time, on CPU the test shares with the host, beside the idle time each script is
 * capped to (idleCapMs). It took 7 s on a quiet host and 32-37 s at load average 21-29, past the 30 s
 * a test is given by default (3 runs of 3); 400 ms a connection is 120 s. A connection the broker
 * neither answers nor closes still fails its verdict (verdictMs) well inside it.
 */
const LIMIT_MS = CONNECTIONS * 400;

let broker: RunningBroker | undefined;
let healthy: HealthyClient | undefined;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeEach(() => {
  uncaught.length = 0;
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
});
afterEach(async () => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  await healthy?.close();
  await broker?.close();
  healthy = undefined;
  broker = undefined;
});

it("survives a seeded fuzz stream: every connection answered or closed, round trips unaffected", {
  timeout: LIMIT_MS,
}, async () => {
  const errors: string[] = [];
  const logger = pino({ level: "error" }, { write: (line: string) => void errors.push(line) });
  // Short timeouts so that silent, half-sent and non-reading sockets are let go within the test.
  broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    connectTimeoutMs: 1000,
    drainTimeoutMs: 1000,
    logger,
  });
  healthy = await HealthyClient.connect(broker.url, "healthy-test");
  const h = healthy;

  let fuzzing = true;
  const trips: number[] = [];
  const during = (async () => {
    while (fuzzing) {
      trips.push(await h.roundTrip(5000));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const tally = await runFuzz({
    host: "127.0.0.1",
    port: broker.port,
    seed: SEED,
    concurrency: 100,
    count: CONNECTIONS,
    // Well past the 1 s connect timeout: a broker that neither answers nor closes within it never
    // will (4 s was passed on a host at load 13 with 100 connections at once; waiting longer costs a
    // run only where the broker is wrong).
    verdictMs: 8000,
    idleCapMs: 1000,
    keepResults: true,
  });
  fuzzing = false;
  await during;

  expect(uncaught).toEqual([]);
  expect(errors).toEqual([]);
  expect(tally.connections).toBe(CONNECTIONS);
  tally.results.sort((a, b) => a.index - b.index);
  const neither = tally.results.filter((r) => r.verdict !== "answered" && r.verdict !== "closed");
  expect(neither.map(describe)).toEqual([]);
  expect(tally.results.filter((r) => r.ending === "connect-failed").map(describe)).toEqual([]);
  // The seed covers every kind of script, and the broker both answered and cut some.
  const kinds = new Set<ScriptKind>(Array.from({ length: CONNECTIONS }, (_, i) => scriptFor(SEED, i).kind));
  expect(kinds.size).toBe(9);
  expect(tally.verdicts.answered).toBeGreaterThan(0);
  expect(tally.endings["broker-closed"]).toBeGreaterThan(0);

  expect(trips.length).toBeGreaterThan(0);
  // Prompt after it: back within 2 s of this process's loop time (a host that holds the process
  // holds the broker in it too: node/test/loop-time.ts), or roundTrip rejects.
  await h.roundTrip(2000);
  expect(h.connected).toBe(true);
});

function describe(r: ConnectionResult): string {
  return `#${r.index} ${r.kind}: ${r.ending}, ${r.verdict}${r.error ? ` (${r.error})` : ""}`;
}
