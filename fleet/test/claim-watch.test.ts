/**
 * A run's claim on its ids cleared or replaced on the broker while the claim's connection stays up
 * (fleet/claim-hold.ts): a will of an earlier connection of the claim published late, another run's
 * `--fresh`, a tool clearing retained messages. Nothing told the run: its ids stayed unclaimed for
 * the rest of it, with no line. The run now watches its claim, says so and claims the ids again, or
 * leaves them to another run that claimed them meanwhile; each loss is kept for the report.
 * The claim's waits are on a fake clock, its I/O and the broker real.
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import {
  claimsHeld,
  claimTaken,
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

/** A broker on port 0 and the run's claim taken on it. */
async function claimed() {
  const url = await openBroker();
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  const claim = await claimTaken(url, sched, (l) => lines.push(l));
  const tool = await toolOn(url);
  return { url, sched, lines, claim, tool };
}

it("claims its ids again when its claim is cleared on the broker while its connection stays up", async () => {
  const { url, sched, lines, claim, tool } = await claimed();
  sched.advance(5_000);
  await tool.publishAsync(mine, "", { qos: 1, retain: true });
  // Before: no line ever came, and the broker held no claim for the rest of the run.
  await drive(sched, () => lines.some((l) => l.includes("is held again")), "the claim held again");
  expect(lines).toEqual([
    `the run's claim on its 4 ids (${mine}) was cleared on the broker at ${url} while its connection stayed up (a will of an earlier connection of the claim, another run's --fresh, or a tool clearing retained messages): claiming the ids again unless another run claimed them`,
    expect.stringMatching(
      /^the run's claim on its 4 ids \(tf\/claim\/mine\) is held again, \d+\.\d s after it was cleared \(claimed again\)$/,
    ),
  ]);
  expect(Object.keys(await claimsHeld(url, prefix))).toEqual([mine]);
  expect(claim.losses()).toEqual([
    { atMs: expect.any(Number) as number, why: "cleared", heldAgainMs: expect.any(Number) as number },
  ]);
  expect(claim.losses()[0]?.atMs).toBeGreaterThanOrEqual(5_000);
  // Replaced by a payload naming other ids (no run's claim: a run's topic holds its own token):
  // claimed again as well, its own ids written back over the other ones.
  await tool.publishAsync(mine, JSON.stringify({ ids: ["n-0900"], spans: [] }), { qos: 1, retain: true });
  await drive(
    sched,
    () => claim.losses().length === 2 && claim.losses()[1]?.heldAgainMs !== undefined,
    "held again",
  );
  expect(lines[2]).toContain("was replaced by another payload on the broker");
  expect(lines[2]).toContain("a client that is no run's claim wrote on its topic");
  const held = await claimsHeld(url, prefix);
  expect(JSON.parse(held[mine] ?? "{}")).toEqual({ ids: [], spans: [["n-0000", "n-0003"]] });
  await claim.close();
  expect(await claimsHeld(url, prefix)).toEqual({});
}, 120_000);

it("leaves its ids to a run that cleared its claim with --fresh and claimed them, and says so", async () => {
  const { url, sched, lines, claim, tool } = await claimed();
  // A --fresh run publishes its claim, then clears the others held on its ids.
  await tool.publishAsync(theirs, JSON.stringify({ ids: ids.slice(1) }), { qos: 1, retain: true });
  sched.advance(2_000);
  await tool.publishAsync(mine, "", { qos: 1, retain: true });
  await drive(
    sched,
    () => lines.some((l) => l.startsWith("another run claimed")),
    "the other run's claim told",
  );
  expect(lines.at(-1)).toBe(
    `another run claimed 3 of this run's 4 ids on the broker while the run's claim on its 4 ids (${mine}) was cleared (${theirs}: n-0001, n-0002, n-0003): this run does not claim them again, and its nodes and that run's take each other's sessions over on those ids; stop one of the two runs`,
  );
  expect(claim.losses()).toEqual([
    {
      atMs: expect.any(Number) as number,
      why: "cleared",
      takenBy: { topic: theirs, ids: 3, afterMs: expect.any(Number) as number },
    },
  ]);
  sched.advance(10_000);
  expect(Object.keys(await claimsHeld(url, prefix))).toEqual([theirs]);
  await claim.close();
  expect(Object.keys(await claimsHeld(url, prefix))).toEqual([theirs]);
}, 120_000);
