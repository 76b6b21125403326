/**
 * The claims as a cluster of brokers may deliver them (fleet/test/scripted-claims.ts): a
 * subscription's retained claims read after live ones, a claim replayed after its removal. Which run
 * gives way is still told by the order the claims went out live, so of two runs exactly one boots.
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimFleet } from "../fleet-claim.js";
import { FleetIdsInUseError } from "../ids-in-use.js";
import { type ClaimScript, ScriptedClaims } from "./scripted-claims.js";

let broker: ScriptedClaims | undefined;

afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const ids = fleetIds(4);

/** The run's claim on `script`'s broker: "claimed", or the error it was refused with, and its warnings. */
async function claimOn(script: ClaimScript): Promise<{ got: unknown; warnings: string[] }> {
  broker = await ScriptedClaims.start(script);
  const sched = new FakeScheduler(0);
  const warnings: string[] = [];
  let settled = false;
  const claiming = claimFleet(
    { url: broker.url, prefix: Prefix("tf"), ids, keepaliveS: 15, waitMs: 2_000, token: "mine" },
    sched,
    (w) => warnings.push(w),
  );
  const end = () => {
    settled = true;
  };
  claiming.then(end, end);
  // The claim's waits are on the fake clock, its I/O real: the clock steps only once the run has
  // handled every claim the broker sent it, so what it saw when its waits end is the script's.
  const scripted = broker;
  while (!settled) {
    if (scripted.quiet()) sched.advance(20);
    await new Promise((r) => setImmediate(r));
  }
  const got = await claiming.then(
    async (c) => {
      await c.close();
      return "claimed";
    },
    (e: unknown) => e,
  );
  return { got, warnings };
}

it("a claim removed before its retained copy came is gone: the run does not wait for it", async () => {
  const { got, warnings } = await claimOn({
    // The removal went out live while the subscription's retained claims were being read.
    onSubscribe: [
      { token: "ended", retain: false },
      { token: "ended", ids, retain: true },
    ],
    onClaim: ["own"],
  });
  // Before, the stale copy held the start for the whole wait, and the run was refused.
  expect(got).toBe("claimed");
  expect(warnings).toEqual([]);
});

it("a claim that went out live after the run's own is younger, though its retained copy came too", async () => {
  const { got } = await claimOn({
    // The other run's claim, stored before this run's retained claims were read, went out after its own.
    onClaim: ["own", { token: "other", ids, retain: false }, { token: "other", ids, retain: true }],
  });
  // Before, the retained copy made it older: both runs gave way, and both were refused.
  expect(got).toBe("claimed");
});

it("a retained copy first and the live one after the run's own: younger, once the live one comes", async () => {
  const { got } = await claimOn({
    onClaim: [{ token: "other", ids, retain: true }, "own", { token: "other", ids, retain: false }],
  });
  expect(got).toBe("claimed");
});

it("a claim that went out live before the run's own is older, though the run's own retained copy came first", async () => {
  const { got } = await claimOn({
    onClaim: ["own-retained", { token: "other", ids, retain: false }, "own"],
  });
  // Before, the run's own retained copy counted as its claim passed back: the older claim looked younger.
  expect(got).toBeInstanceOf(FleetIdsInUseError);
});

it("a claim the broker held (retained only) is older, as before", async () => {
  const { got, warnings } = await claimOn({
    onSubscribe: [{ token: "other", ids, retain: true }],
    onClaim: ["own"],
  });
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  expect(warnings).toEqual([expect.stringContaining("4 of the fleet's ids are claimed by another run")]);
});
