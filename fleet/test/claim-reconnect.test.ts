/**
 * A run's claim on its ids across a `kill -9` and restart of its broker on the same data directory
 * (fleet/claim-hold.ts). The claim's connection did not reconnect: the restarted broker kept the
 * claim until it published that connection's will (`--will-grace` after its start), and from then on
 * only the nodes being online kept a second run off the ids. The claim now comes back with the
 * broker, and a claim another run took on the ids meanwhile is said and left alone.
 * The claim's waits are on a fake clock, its I/O and the brokers real: the clock is moved on in
 * small steps while the test waits for what the claim says.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/server.js";
import { client } from "../../broker/test/helpers.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimFleet, claimTopic, type FleetClaim } from "../fleet-claim.js";
import { drive, claimsHeld as held } from "./claim-drive.js";

const prefix = Prefix("tf");
const ids = fleetIds(4);
const mine = claimTopic(prefix, "mine");
const theirs = claimTopic(prefix, "theirs");
let dir: string | undefined;
const brokers: RunningBroker[] = [];
const clients: mqtt.MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const b of brokers.splice(0)) await b.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function start(port: number, dataDir: string, staleWillGraceMs: number): Promise<RunningBroker> {
  const b = await startBroker({ host: "127.0.0.1", port, dataDir, staleWillGraceMs });
  brokers.push(b);
  return b;
}

const claimsHeld = (url: string) => held(url, prefix);

/** The run's claim taken on `url`, the broker then killed and restarted with `graceMs` for its previous run's wills. */
async function claimThenRestart(graceMs: number) {
  dir = await mkdtemp(join(tmpdir(), "tf-claim-reconnect-"));
  const first = await start(0, dir, graceMs);
  const url = first.url;
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  let claim: FleetClaim | undefined;
  const taking = claimFleet({ url, prefix, ids, keepaliveS: 60, waitMs: 1_000, token: "mine" }, sched, (l) =>
    lines.push(l),
  );
  const took = taking.then((c) => {
    claim = c;
  });
  await drive(sched, () => claim !== undefined, "the claim taken");
  await took;
  await first.kill();
  const second = await start(first.port, dir, graceMs);
  brokers.splice(brokers.indexOf(first), 1);
  return { url, sched, lines, claim: claim as FleetClaim, second };
}

it("takes its claim back on a broker restarted under the run, after the broker's will cleared it", async () => {
  const { url, sched, lines, claim } = await claimThenRestart(0);
  // The restarted broker published the claim's will at once (no grace): the claim is gone.
  await expect.poll(() => claimsHeld(url), { timeout: 20_000 }).toEqual({});
  // Before: nothing more; the ids unclaimed for the rest of the run.
  await drive(sched, () => lines.some((l) => l.includes("is held again")), "the claim held again");
  expect(lines).toEqual([
    `the run's claim on its 4 ids (${mine}) lost its connection to the broker at ${url}: claiming them again once it answers (a try every 1 s); until then only the nodes online keep another run off the ids`,
    expect.stringMatching(
      /^the run's claim on its 4 ids \(tf\/claim\/mine\) is held again, \d+\.\d s after its connection was lost \(the broker had cleared it meanwhile, by its will: claimed again\)$/,
    ),
  ]);
  expect(Object.keys(await claimsHeld(url))).toEqual([mine]);
  await claim.close();
  expect(await claimsHeld(url)).toEqual({});
}, 120_000);

it("takes its claim back within the broker's grace, which then publishes no will for it", async () => {
  const { url, sched, lines, claim } = await claimThenRestart(60_000);
  await drive(sched, () => lines.some((l) => l.includes("is held again")), "the claim held again");
  expect(lines.at(-1)).toContain("(the broker had kept it)");
  expect(Object.keys(await claimsHeld(url))).toEqual([mine]);
  await claim.close();
  expect(await claimsHeld(url)).toEqual({});
}, 120_000);

it("leaves the ids to another run that claimed them while its claim was lost, and says so", async () => {
  const { url, sched, lines, claim } = await claimThenRestart(0);
  await expect.poll(() => claimsHeld(url), { timeout: 20_000 }).toEqual({});
  // Another run found the ids offline and unclaimed, and claimed two of them.
  const other = await client(url, {
    clientId: "tf-claim-theirs",
    will: { topic: theirs, payload: Buffer.alloc(0), qos: 1, retain: true },
  });
  clients.push(other);
  await other.publishAsync(theirs, JSON.stringify({ ids: ids.slice(2) }), { qos: 1, retain: true });
  await drive(
    sched,
    () => lines.some((l) => l.includes("another run claimed")),
    "the other run's claim told",
  );
  expect(lines.at(-1)).toBe(
    `another run claimed 2 of this run's 4 ids on the broker while the run's claim on its 4 ids (${mine}) was lost (${theirs}: n-0002, n-0003): this run does not claim them again, and its nodes and that run's take each other's sessions over on those ids; stop one of the two runs`,
  );
  // Nor later: the clock runs on, and no other try is made.
  sched.advance(10_000);
  expect(Object.keys(await claimsHeld(url))).toEqual([theirs]);
  await claim.close();
  expect(Object.keys(await claimsHeld(url))).toEqual([theirs]);
}, 120_000);
