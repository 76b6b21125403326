// A run that joined a twins service asks it, before its nodes stop, which of them it holds a twin of
// (fleet/joined-held.ts): the answers collected, the nodes not held judged a failure, a service that
// does not answer (one older than the question) left unknown after HELD_WAIT_MS on the run's clock.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { askHeld, HELD_WAIT_MS, heldFailures, heldJudgement } from "../joined-held.js";
import { FakeClient, fleet } from "./held-client.js";

const held = (id: string) => Number(id.slice(2)) < 50;

describe("asking the joined service which nodes it holds", () => {
  it("collects every answer: the nodes not held, its --max-nodes and its twins", async () => {
    const client = new FakeClient((seq, ids) =>
      `H1 ${seq} 50 50 ${ids.filter((i) => !held(i)).join(" ")}`.trim(),
    );
    const r = await askHeld(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(client.asked).toBeGreaterThan(1); // a fleet takes several questions
    expect(client.subscribed).toEqual([]); // its answer topic left again
    expect(r).toEqual({
      clientId: "ctl-a",
      asked: 200,
      answered: 200,
      notHeld: 150,
      notHeldIds: fleet.slice(50, 60),
      maxNodes: 50,
      twins: 50,
    });
    expect(heldFailures(r)).toEqual([
      "150 of the fleet's 200 nodes have no twin in the twins service ctl-a, which keeps at most 50 twins (--max-nodes 50) and holds 50: n-0050, n-0051, n-0052, n-0053, n-0054, n-0055, n-0056, n-0057, n-0058, n-0059 and 140 more are neither shown nor controlled by it",
    ]);
    expect(heldJudgement(r).unknown).toBeUndefined();
  });

  it("fails nothing when every node is held", async () => {
    const client = new FakeClient((seq) => `H1 ${seq} 200000 300`);
    const r = await askHeld(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(r).toMatchObject({ answered: 200, notHeld: 0, maxNodes: 200000, twins: 300 });
    expect(heldJudgement(r)).toEqual({});
    expect(heldFailures(r)).toEqual([]);
  });

  it("leaves a service that does not answer unknown after the wait, on the run's clock, failing nothing", async () => {
    const sched = new FakeScheduler();
    const client = new FakeClient(() => undefined);
    let done = false;
    const asking = askHeld(client, Prefix("tf"), "ctl-old", fleet, sched).finally(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    sched.advance(HELD_WAIT_MS - 1);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    sched.advance(1);
    const r = await asking;
    expect(r).toEqual({ clientId: "ctl-old", asked: 200, answered: 0, notHeld: 0, notHeldIds: [] });
    expect(heldFailures(r)).toEqual([]);
    expect(heldJudgement(r).unknown).toBe(
      "unknown: the twins service ctl-old did not answer which of the fleet's nodes it holds (one older than this run does not, nor one that no longer runs, its presence kept by a broker that lost its last will)",
    );
    expect(heldJudgement(r, 64_200).unknown).toBe(
      "unknown: the twins service ctl-old did not answer which of the fleet's nodes it holds (the broker was lost at 64.2 s and not back by the end: the questions could not reach it)",
    );
  });

  it("counts the nodes of the questions not answered as unknown, the others as answered", async () => {
    const sched = new FakeScheduler();
    const client = new FakeClient((seq, ids) => (seq === 0 ? `H1 0 10 10 ${ids.at(-1)}` : undefined));
    const asking = askHeld(client, Prefix("tf"), "ctl-a", fleet, sched);
    await new Promise((r) => setImmediate(r));
    sched.advance(HELD_WAIT_MS);
    const r = await asking;
    expect(r.notHeld).toBe(1);
    expect(r.answered).toBeGreaterThan(0);
    expect(r.answered).toBeLessThan(200);
    expect(heldJudgement(r).unknown).toMatch(new RegExp(`^unknown for ${200 - r.answered} of 200 nodes: `));
    expect(heldFailures(r)).toHaveLength(1);
  });
});
