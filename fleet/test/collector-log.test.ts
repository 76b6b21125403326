// The collector's press log (what a shard keeps for the merge): every press, applied state and press
// that never left its node, in time order, a held press timed from its interrupt — the same times
// the checker is given.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { Collector, type PressLog } from "../collector.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

function logged(): { log: PressLog; lines: string[] } {
  const lines: string[] = [];
  const text = (s: Stamp | null) => (s === null ? "held" : `${s.counter}@${s.origin}`);
  return {
    lines,
    log: {
      press: (node, stamp, at) => lines.push(`press ${node} ${text(stamp)} ${at}`),
      applied: (node, stamp, at) => lines.push(`applied ${node} ${text(stamp)} ${at}`),
    },
  };
}

describe("Collector press log", () => {
  it("logs presses and applies in time order, whatever order the threads sent them in", () => {
    const { log, lines } = logged();
    const c = new Collector(new Map([[A, [B]]]), undefined, log);
    c.push([{ type: "applied", node: B, at: 120, stamp: st(1, A), on: true, via: "report" }]);
    c.push([{ type: "press", node: A, at: 100, ledAt: 100, stamp: st(1, A) }]);
    c.drain(200);
    expect(lines).toEqual(["press A 1@A 100", "applied B 1@A 120"]);
    expect(c.checker.counts().deliveries).toBe(1);
  });

  it("times a held press from its interrupt, and logs one lost to a reboot or still held at the end", () => {
    const { log, lines } = logged();
    const c = new Collector(new Map([[A, [B]]]), undefined, log);
    c.push([
      { type: "press", node: A, at: 10, ledAt: 10 },
      { type: "press", node: A, at: 20, ledAt: 20 },
      { type: "held-applied", node: A, at: 50, stamp: st(2, A), presses: 2 },
      { type: "press", node: A, at: 60, ledAt: 60 },
      { type: "boot", node: A, at: 70 },
      { type: "press", node: B, at: 80, ledAt: 80 },
    ]);
    c.finish();
    expect(lines).toEqual(["press A 2@A 10", "press A held 60", "press B held 80"]);
    // The checker saw the same three presses.
    expect(c.checker.counts().presses).toBe(3);
  });
});
