/**
 * The twins service on the wire: bad input from devices counted and never regressing a twin, and
 * convergence tracked live.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import type { ConvergenceReport } from "../convergence.js";
import type { Twins } from "../service.js";
import type { BadInput } from "../types.js";
import { Fixtures, rawClient, type TestBroker, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());
let broker: TestBroker;
async function setup(): Promise<Twins> {
  broker = await fx.broker();
  return fx.twins();
}
const node = (id: string): Promise<CoreClient> => fx.node(id);

describe("twins on the wire", () => {
  it("counts bad input from devices with the node id, keeps serving and never regresses a twin", async () => {
    const t = await setup();
    const b = await node("B");
    const a = await node("A");
    await until(() => t.get("A")?.kind !== undefined && t.get("B")?.kind !== undefined, "A and B registered");
    await t.pair("A", "B");
    await until(() => t.get("A")?.pairingInSync === true && t.get("A")?.config !== undefined, "paired");
    b.press();
    b.press();
    await until(() => t.get("A")?.reported?.stamp.counter === 2, "A mirrors B");
    const seen: BadInput[] = [];
    t.on("bad-input", (i) => seen.push(i));

    const raw = await rawClient(broker.url);
    fx.track(raw, (r) => r.endAsync());
    const bad: [string, string, boolean][] = [
      ["tf/register/A", "G1 toaster uno-w5100 1.0.0", false], // malformed register
      ["tf/register/", "G1 sim uno-w5100 1.0.0", false], // no node id
      ["tf/report/bad.id", "R1 1 9 bad", false], // malformed id
      ["tf/status/A", "T9 1", false], // wrong version
      ["tf/report/A", "R1 0 99 Mallory", false], // origin neither A nor upstream of it
      ["tf/config/A", "C1 0", false], // older config version
    ];
    for (const [topic, payload, retain] of bad) await raw.publishAsync(topic, payload, { qos: 1, retain });
    await until(() => seen.length === bad.length, `${bad.length} bad inputs`);
    // In any order: a report whose origin the configs do not explain is judged once the broker's
    // replay after the service's subscription is over (twins/origin-wait.ts), which on a quick host
    // is after the inputs that follow it.
    expect(seen.map((i) => i.reason).sort()).toEqual(
      ["bad-payload", "bad-id", "bad-id", "wrong-version", "spoofed-origin", "stale-config"].sort(),
    );
    expect(seen.filter((i) => i.node === "A")).toHaveLength(4);
    expect(t.badInputOf("A")).toBe(4);
    expect(t.badInput().total).toBe(6);
    // An older report written over the broker's copy is no bad input: the twin's goes back, retained.
    const probe = fx.track(await rawClient(broker.url), (r) => r.endAsync());
    const written: string[] = [];
    const putBack = new Promise<void>((resolve) =>
      probe.on("message", (_topic, payload) => {
        written.push(payload.toString());
        if (written.includes("R1 0 1 B") && written.at(-1) === "R1 0 2 B") resolve();
      }),
    );
    await probe.subscribeAsync("tf/report/A", { qos: 1 });
    await raw.publishAsync("tf/report/A", "R1 0 1 B", { qos: 1, retain: true });
    await putBack;
    const later = fx.track(await rawClient(broker.url), (r) => r.endAsync());
    const retained = new Promise<string>((resolve) => later.on("message", (_t, p) => resolve(p.toString())));
    await later.subscribeAsync("tf/report/A", { qos: 1 });
    expect(await retained).toBe("R1 0 2 B");
    expect(t.badInput().total).toBe(6);
    expect(t.get("A")).toMatchObject({
      kind: "sim",
      presence: "online",
      reported: { on: false, stamp: { counter: 2, origin: "B" } },
      config: { sources: ["B"] },
    });
    // Still serving: a set goes out with the highest believed counter, not the spoofed 99.
    expect(await t.set("A", true)).toBe(2);
    await until(() => a.state.on, "A on");
  });

  it("tracks convergence live: a chain catches up and the series records the fraction", async () => {
    const t = await setup();
    const reports: ConvergenceReport[] = [];
    t.on("convergence", (r) => reports.push(r));
    const b = await node("B");
    const a = await node("A");
    const c = await node("C");
    await until(() => ["A", "B", "C"].every((id) => t.get(id)?.kind), "chain registered");
    await t.pair("A", "B");
    await t.pair("C", "A");
    await until(() => t.get("A")?.config !== undefined && t.get("C")?.config !== undefined, "chain paired");

    // C presses its own button three times: ahead of its upstream, out of sync (protocol §4).
    for (let i = 0; i < 3; i++) c.press();
    await until(() => t.convergence().followers.find((f) => f.id === "C")?.status === "ahead", "C ahead");
    expect(t.convergence().fraction).toBeLessThan(1);
    // The series samples at most every 100 ms: it records the dip while C stays ahead.
    await until(() => t.history().some((p) => p.fraction < 1), "the dip in the series");

    // Presses on B with a counter above C's: the chain B → A → C converges.
    for (let i = 0; i < 4; i++) b.press();
    await until(() => t.convergence().fraction === 1 && t.convergence().known === 2, "fleet in sync");
    expect(a.state.stamp).toEqual(b.state.stamp);
    expect(c.state.stamp).toEqual(b.state.stamp);
    // The report and the series follow within the service's recompute interval (100 ms).
    await until(() => reports.at(-1)?.fraction === 1, "the convergence event");
    const history = t.history();
    expect(history.some((p) => p.fraction < 1)).toBe(true);
    expect(history.at(-1)).toMatchObject({ fraction: 1, inSync: 2, known: 2 });
  });
});
