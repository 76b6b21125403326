/**
 * A run's own claim cleared on the broker while its claim step waits for another run's claim on its
 * ids to go (fleet/fleet-claim.ts): the run used to miss it, and started believing it held its claim,
 * the ids unclaimed for the whole run. It now claims them again at once, says so, and keeps the loss
 * for the report. The claim's waits are on a fake clock, its I/O and the broker real.
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { encodeClaimIds } from "../claim-ids.js";
import { claimFleet, type FleetClaim } from "../fleet-claim.js";
import {
  claimsHeld,
  closeOpened,
  drive,
  ids,
  mine,
  openBroker,
  prefix,
  theirs,
  toolOn,
} from "./claim-drive.js";

afterEach(closeOpened);

it("claims its ids again when its own claim is cleared while it waits for another run's claim to go", async () => {
  const url = await openBroker();
  const tool = await toolOn(url);
  // Another run's claim on the ids, held as this run claims them: this run waits for it to go.
  await tool.publishAsync(theirs, JSON.stringify(encodeClaimIds(ids)), { qos: 1, retain: true });
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  let claim: FleetClaim | undefined;
  const took = claimFleet({ url, prefix, ids, keepaliveS: 60, waitMs: 23_500, token: "mine" }, sched, (l) =>
    lines.push(l),
  ).then((c) => {
    claim = c;
  });
  await drive(sched, () => lines.some((l) => l.includes("claimed by another run")), "the wait said");
  // Its own claim cleared (a tool clearing retained messages), then the other run's claim goes.
  await tool.publishAsync(mine, "", { qos: 1, retain: true });
  sched.advance(1_000);
  await tool.publishAsync(theirs, "", { qos: 1, retain: true });
  await drive(sched, () => claim !== undefined, "the claim taken");
  await took;
  // Before: the run started with no claim on the broker, no line said so, and no loss was kept.
  expect(lines).toEqual([
    expect.stringContaining("4 of the fleet's ids are claimed by another run starting on the broker"),
    `the run's claim on its ids (${mine}) was cleared on the broker while the run waited for another run's claim on its ids to go (another run's --fresh, a tool clearing retained messages): claiming them again (a try every 1 s, 10 at most)`,
    expect.stringMatching(
      /^the run's claim on its ids \(tf\/claim\/mine\) is held again, \d+\.\d s after it was cleared in the claim step \(1 try\)$/,
    ),
  ]);
  const c = claim as FleetClaim;
  expect(c.notHeld).toBeUndefined();
  expect(c.losses()).toEqual([
    { atMs: expect.any(Number) as number, why: "cleared", heldAgainMs: expect.any(Number) as number },
  ]);
  expect(Object.keys(await claimsHeld(url, prefix))).toEqual([mine]);
  await c.close();
  expect(await claimsHeld(url, prefix)).toEqual({});
}, 120_000);
