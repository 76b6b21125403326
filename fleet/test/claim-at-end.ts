/**
 * A claim cleared by someone else while a run's nodes stop at its end (a tool clearing retained
 * messages, another run's --fresh), for the one-process run's test and the shard's: the tool watches
 * the claims, clears the run's as its nodes stop, and waits until the run says it holds it again;
 * then what the run's log and report must say of it.
 */
import type mqtt from "mqtt";
import { expect } from "vitest";
import type { ClaimReport } from "../claim-report.js";

/** Resolves once `done()` holds, checked every 10 ms, within 20 s. */
export async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`not seen within 20 s: ${what}`);
}

/** `tool` watches the claims; the `ending` hook returned clears the run's as its nodes stop. */
export async function clearAsNodesStop(
  tool: mqtt.MqttClient,
  lines: readonly string[],
): Promise<{ topic(): string | undefined; ending(what: string): Promise<void> }> {
  let topic: string | undefined;
  tool.on("message", (t, payload) => {
    if (payload.length > 0) topic ??= t;
  });
  await tool.subscribeAsync("tf/claim/+", { qos: 1 });
  return {
    topic: () => topic,
    ending: async (what) => {
      if (what !== "stopping its nodes" || topic === undefined) return;
      await tool.publishAsync(topic, "", { qos: 1, retain: true });
      await until(() => lines.some((l) => l.includes("is held again")), "the claim held again");
    },
  };
}

/** The clear told once, and in the report as a loss held again; the run's own clear no loss. */
export function expectClearKept(
  lines: readonly string[],
  claim: ClaimReport | undefined,
  topic?: string,
): void {
  expect(lines.filter((l) => l.includes("was cleared on the broker"))).toHaveLength(1);
  // Before: no claim section, though the claim had been cleared and claimed again.
  expect(claim?.topic).toBe(topic);
  expect(claim?.losses).toEqual([
    { atMs: expect.any(Number), why: "cleared", heldAgainAfterMs: expect.any(Number) },
  ]);
}
