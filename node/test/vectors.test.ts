/**
 * Every conformance vector in protocol/vectors/ run against NodeCore: each step's outputs in order
 * (a drop's free-text `detail` is not part of the contract) and the final state.
 */

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertNever, NodeId, Prefix } from "../../protocol/index.js";
import { type Vector, type VectorOutput, vectorFileSchema } from "../../protocol/vector-schema.js";
import { type CoreOutput, NodeCore } from "../core.js";

const dir = fileURLToPath(new URL("../../protocol/vectors/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

function comparable(o: CoreOutput): VectorOutput {
  switch (o.type) {
    case "drop":
      return { type: "drop", reason: o.reason, topic: o.topic };
    case "subscribe":
    case "unsubscribe":
    case "publish":
    case "led":
      return o;
    default:
      assertNever(o);
  }
}

function run(v: Vector): void {
  const core = new NodeCore({
    id: NodeId(v.node.id),
    prefix: Prefix(v.node.prefix),
    kind: v.node.kind,
    profile: v.node.profile,
    firmware: v.node.firmware,
    syncGraceMs: v.node.syncGraceMs,
  });
  v.steps.forEach((step, i) => {
    const out = core.handle(step.in, step.at).map(comparable);
    expect(out, `step ${i} (${step.in.type} at ${step.at} ms)`).toEqual(step.out);
  });
  const s = core.state;
  expect({
    on: s.on,
    led: s.led,
    counter: s.stamp.counter,
    origin: s.stamp.origin,
    clock: s.clock,
    sources: [...s.sources],
    configVersion: s.configVersion,
  }).toEqual(v.final);
}

it("finds the vector files", () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
});

for (const file of files) {
  const parsed = vectorFileSchema.parse(JSON.parse(readFileSync(`${dir}${file}`, "utf8")));
  describe(file, () => {
    for (const v of parsed.vectors) it(v.name, () => run(v));
  });
}
