/**
 * `held` in `GET /api/convergence` (web/shapes.ts): the share the twins service holds from before its
 * own re-read of the broker's state, said so on the answer and on each point measured in the re-read,
 * and absent otherwise (an answer as before).
 */
import { expect, it } from "vitest";
import { convergenceOf } from "../shapes.js";

it("says held on the answer and its points while the share is held from before a re-read, and nothing otherwise", () => {
  const before = { t: 1, fraction: 1, inSync: 4, known: 4, online: 4 };
  const held = convergenceOf(
    {
      fraction: 1,
      inSync: 4,
      known: 4,
      online: 4,
      held: true,
      history: [before, { ...before, t: 2, held: true }],
    },
    3,
  );
  expect(held).toMatchObject({ fraction: 1, held: true, history: [before, { t: 2, held: true }] });
  const after = convergenceOf({ fraction: 0.5, inSync: 2, known: 4, online: 4, history: [before] }, 4);
  expect(after).not.toHaveProperty("held");
  expect(after.history[0]).not.toHaveProperty("held");
});
