// The web tests' wait on the fleet (web/test/helpers.ts): a condition that comes true without the
// source telling a change (the run's clock moving) is seen, and one that never does fails naming it.
import { expect, it } from "vitest";
import type { ConsoleSource } from "../../view/source.js";
import { whenChanged } from "./helpers.js";

/** A source that never tells a change. */
const silent = { on: () => () => {} } as unknown as ConsoleSource;

it("sees a condition come true without a change told", async () => {
  let now = 0;
  const clock = setInterval(() => now++, 10);
  try {
    await whenChanged(silent, () => now >= 20, "the clock at 20", 5_000);
  } finally {
    clearInterval(clock);
  }
  expect(now).toBeGreaterThanOrEqual(20);
});

it("fails naming what it waited for when the condition never holds", async () => {
  await expect(whenChanged(silent, () => false, "nothing", 300)).rejects.toThrow(
    "timed out after 0.3 s waiting for nothing",
  );
});
