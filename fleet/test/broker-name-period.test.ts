/**
 * The nodes' broker name looked up again on a period (fleet/broker-address.ts): a name that moves
 * while the old broker stays up (a standby promoted, the old one left running) cuts no connection,
 * and was never told. The lookup is injected, the clock a FakeScheduler.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { BROKER_NAME_CHECK_MS, nodesBrokerAt } from "../broker-address.js";

/** A lookup whose answer the test changes: addresses, a failure, or one that never answers. */
function resolver(first: readonly string[]) {
  const state = { addresses: first, calls: 0, mode: "answer" as "answer" | "fail" | "hang" };
  const lookup = (host: string): Promise<readonly string[]> => {
    state.calls++;
    if (state.mode === "hang") return new Promise(() => {});
    if (state.mode === "fail")
      return Promise.reject(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: "EAI_AGAIN" }));
    return Promise.resolve(state.addresses);
  };
  return { state, lookup };
}

async function started(first: readonly string[]) {
  const sched = new FakeScheduler(1_000);
  const r = resolver(first);
  const warn: string[] = [];
  const at = await nodesBrokerAt(
    "mqtt://broker.test:1883",
    [],
    { info: () => {}, warn: (l) => warn.push(l) },
    r.lookup,
    sched,
  );
  const watch = at.moves;
  if (watch === undefined) throw new Error("no watch for a name");
  /** One period on, its lookup's answer told. */
  const period = async (answered = true) => {
    sched.advance(BROKER_NAME_CHECK_MS);
    await Promise.resolve();
    if (answered) await watch.checking;
  };
  return { sched, ...r, warn, watch, period };
}

const MOVED =
  "the broker's name broker.test now names 127.0.0.3:1883, but the nodes still connect to 127.0.0.2:1883, what it named when the run started, as boards given the broker's address do: they will not reach a broker moved there (start the run again to move them)";

describe("the nodes' broker name on a period", () => {
  it("tells a move with no connection lost, once per change, its time in the report", async () => {
    const { state, warn, watch, period } = await started(["127.0.0.2"]);
    expect(state.calls).toBe(1); // the start's
    await period();
    expect(warn).toEqual([]);
    state.addresses = ["127.0.0.3"];
    await period();
    await period();
    await period();
    expect(warn).toEqual([MOVED]);
    expect(state.calls).toBe(5);
    expect(watch.report(1_000)?.moves).toEqual([
      { atMs: 2 * BROKER_NAME_CHECK_MS, names: ["127.0.0.3:1883"] },
    ]);
    watch.stop();
    state.addresses = ["127.0.0.2"];
    await period();
    expect(state.calls).toBe(5); // stopped: no more lookups
  });

  it("says one line for a resolver that fails, however long, and no more lookups than one at a time", async () => {
    const { state, warn, period } = await started(["127.0.0.2"]);
    state.mode = "fail";
    for (let i = 0; i < 5; i++) await period();
    expect(warn).toEqual([
      "the broker's name broker.test could not be looked up again (host name lookup failed (no answer from the resolver; try again, or give an address) (EAI_AGAIN)): a move is not seen until it can be; the nodes connect to 127.0.0.2:1883 still",
    ]);
    state.mode = "hang";
    const before = state.calls;
    for (let i = 0; i < 5; i++) await period(false);
    expect(state.calls).toBe(before + 1); // one lookup held by the resolver, not one per period
    expect(warn).toHaveLength(1);
  });
});
