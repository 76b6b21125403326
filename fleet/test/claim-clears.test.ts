/**
 * A run's claim cleared on the broker again and again while its connection stays up (a script
 * clearing retained messages in a loop): the run claimed its ids again after every clear, for the
 * whole run, about 3 publishes a second. It now claims them again after CLAIM_CLEARS_MAX - 1 clears
 * within CLAIM_CLEARS_WINDOW_MS and gives up at the next (fleet/claim-clears.ts), with one ERROR line
 * and the loss kept as given up; clears further apart are each claimed again. The claim's waits are
 * on a fake clock, its I/O and the broker real.
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { CLAIM_CLEARS_MAX, CLAIM_CLEARS_WINDOW_MS, ClaimClears } from "../claim-clears.js";
import {
  claimsHeld,
  claimTaken,
  closeOpened,
  drive,
  mine,
  openBroker,
  prefix,
  toolOn,
} from "./claim-drive.js";

afterEach(closeOpened);

it("gives its claim up, once and with an ERROR, when it is cleared 5 times within a minute", async () => {
  const url = await openBroker();
  const sched = new FakeScheduler(0);
  const lines: { line: string; level?: "error" }[] = [];
  const c = await claimTaken(url, sched, (line, level) => lines.push(level ? { line, level } : { line }));
  // A script clearing the claim each time the run publishes it, 8 times at most.
  const tool = await toolOn(url);
  let published = 0;
  tool.on("message", (topic, payload, packet) => {
    if (topic !== mine || payload.length === 0 || packet.retain) return;
    published++;
    if (published <= 8) tool.publish(mine, "", { qos: 1, retain: true });
  });
  await tool.subscribeAsync(mine, { qos: 1 });
  await tool.publishAsync(mine, "", { qos: 1, retain: true });
  await drive(sched, () => lines.some((l) => l.level === "error"), "the claim given up");
  const at = sched.now();
  await drive(sched, () => sched.now() - at >= 20_000, "20 s more");
  // Before: published again after every clear, 8 times, the claim then held again.
  expect(published).toBe(CLAIM_CLEARS_MAX - 1);
  expect(lines.filter((l) => l.level === "error")).toEqual([
    {
      level: "error",
      line: expect.stringMatching(
        /^the run's claim on its 4 ids \(tf\/claim\/mine\) was cleared or replaced on the broker at .* 5 times in \d+\.\d s while its connection stayed up: something keeps clearing it .* The run no longer claims its ids: they are unclaimed for the rest of the run/,
      ),
    },
  ]);
  expect(lines.filter((l) => l.line.includes("is held again"))).toHaveLength(CLAIM_CLEARS_MAX - 1);
  const losses = c.losses();
  expect(losses).toHaveLength(CLAIM_CLEARS_MAX);
  expect(losses.at(-1)).toEqual({
    atMs: expect.any(Number) as number,
    why: "cleared",
    gaveUp: { clears: CLAIM_CLEARS_MAX, withinMs: expect.any(Number) as number },
  });
  expect(losses.at(-1)?.gaveUp?.withinMs).toBeLessThan(CLAIM_CLEARS_WINDOW_MS);
  expect(await claimsHeld(url, prefix)).toEqual({});
  await c.close();
}, 120_000);

it("counts only the clears within the window", () => {
  const clears = new ClaimClears();
  // A clear every 15 s: 4 in any minute, never given up.
  for (let i = 0; i < 20; i++) expect(clears.add(i * 15_000)).toBeUndefined();
  const burst = new ClaimClears();
  for (let i = 0; i < CLAIM_CLEARS_MAX - 1; i++) expect(burst.add(i * 1_000)).toBeUndefined();
  expect(burst.add(59_000)).toEqual({ clears: CLAIM_CLEARS_MAX, withinMs: 59_000 });
});
