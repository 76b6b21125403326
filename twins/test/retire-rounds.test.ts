/**
 * What a forget waits for (twins/retire.ts): the status first, then the config and report clears
 * together, then every follower's unpair together, then the forget request — four round trips to the
 * broker, not one per publish — and its followers found without making a view of every twin. Each
 * forget of a series sent to a loaded service used to wait for every publish in turn.
 */
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { type NodeId, Prefix } from "../../protocol/index.js";
import type { PairingOutcome } from "../api.js";
import { TwinRegistry } from "../registry.js";
import { type RetireDeps, retire } from "../retire.js";

/** A call waiting for its answer, as a QoS 1 publish waits for its PUBACK. */
interface Pending {
  readonly what: string;
  readonly done: () => void;
}

function setup() {
  const registry = new TwinRegistry(Prefix("tf"));
  for (const id of ["A", "B", "C", "D"])
    registry.receive(`tf/register/${id}`, "G1 sim uno-w5100 1.0.0", 0, 0);
  registry.receive("tf/config/B", "C1 1 A", 0, 0, true); // B follows A by its config
  registry.setDesiredSources("C" as NodeId, ["A" as NodeId], 1); // C is desired to follow A
  registry.receive("tf/config/D", "C1 1", 0, 0, true);
  const pending: Pending[] = [];
  const wait = <T>(what: string, value: T) =>
    new Promise<T>((resolve) => pending.push({ what, done: () => resolve(value) }));
  const d: RetireDeps = {
    registry,
    prefix: Prefix("tf"),
    logger: pino({ level: "silent" }),
    passive: false,
    // Marked when sent while A still has a twin: its config and report must not be.
    publish: (topic) => wait(`${topic}${registry.has("A" as NodeId) ? " (A kept)" : ""}`, undefined),
    unpair: (f, s) => wait<PairingOutcome>(`unpair ${f} ${s}`, { sent: true }),
    apply: () => {},
  };
  /** What is in flight once nothing else can run, answered together. */
  const round = async (): Promise<string[]> => {
    await new Promise((resolve) => setImmediate(resolve));
    const now = pending.splice(0);
    for (const p of now) p.done();
    return now.map((p) => p.what).sort();
  };
  return { registry, d, round };
}

describe("a forget's round trips", () => {
  it("clears the config and report together, then unpairs every follower together, then asks the others", async () => {
    const { registry, d, round } = setup();
    const list = vi.spyOn(registry, "list");
    const done = retire(d, "A" as NodeId, { force: true });
    expect(await round()).toEqual(["tf/status/A (A kept)"]);
    expect(await round()).toEqual(["tf/config/A", "tf/report/A"]);
    expect(await round()).toEqual(["unpair B A", "unpair C A"]);
    expect(await round()).toEqual(["tf/forget/A"]);
    expect(await round()).toEqual([]);
    expect(await done).toEqual({
      node: "A",
      unpaired: ["B", "C"],
      cleared: ["tf/status/A", "tf/config/A", "tf/report/A"],
    });
    expect(list).not.toHaveBeenCalled(); // its followers came from the index, no view of every twin made
  });
});
