/**
 * Counting the followers online asks each follower's presence, not a view of its twin: the view
 * (`Twins.get`) copies what the node follows and lists its followers, and the count is taken again
 * whenever a presence moved, once a second for every page open and at each /metrics scrape. At 8,000
 * followers that cost the twins service's main thread 14 ms a count (docs/web.md "Cost to the fleet").
 */
import { expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport } from "../../twins/index.js";
import { TwinsSource } from "../twins-source.js";
import { a, FakeTwins, twin } from "./fake-twins.js";

const FOLLOWERS = 2_000;

it("counts the online followers of a large fleet without making a view of any twin", () => {
  const t = new FakeTwins();
  const ids = Array.from({ length: FOLLOWERS }, (_, i) => NodeId(`f-${String(i).padStart(4, "0")}`));
  ids.forEach((id, i) => {
    t.twins.set(id, twin(id, { follows: [a], presence: i % 4 === 0 ? "offline" : "online" }));
  });
  const report: ConvergenceReport = {
    followers: ids.map((id) => ({
      id,
      status: "in-sync",
      stamp: undefined,
      target: undefined,
      waitingOn: [],
    })),
    inSync: FOLLOWERS,
    known: FOLLOWERS,
    fraction: 1,
  };
  let views = 0;
  const get = t.get;
  t.get = (id: string) => {
    views++;
    return get(id);
  };
  const s = new TwinsSource(t, "mqtt://x");
  t.emit("convergence", report);
  views = 0;
  expect(s.convergence()).toMatchObject({ known: FOLLOWERS, online: FOLLOWERS * 0.75 });
  // A presence moved: the count is taken again, still from presences alone.
  const back = twin(ids[0] as NodeId, { follows: [a] });
  t.twins.set(back.id, back);
  t.emit("twin-updated", back, "presence");
  views = 0;
  expect(s.convergence().online).toBe(FOLLOWERS * 0.75 + 1);
  expect(views).toBe(0);
  s.close();
});
