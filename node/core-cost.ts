/**
 * What one NodeCore step costs on the board: classifies an input by what the core did with it (its
 * outputs: the drop reason, the publishes, whether the sync completed) into the profile's
 * `coreCycles` operations, each of which maps onto one operation measured on the C++ core
 * (firmware/measured/uno-cycles.json). The measured operations include encoding the payloads the
 * core publishes, so a publish costs nothing more here; PubSubClient's packet and the SPI transfer
 * are the board's.
 */

import type { DropReason } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";
import type { CoreInput, CoreOutput, SyncPhase } from "./core.js";
import type { DeviceProfile } from "./profile.js";

export type CoreCycles = DeviceProfile["coreCycles"];
export type CoreOperation = keyof CoreCycles;

/** One core step as the board saw it. */
export interface CoreStep {
  readonly input: CoreInput;
  readonly outputs: readonly CoreOutput[];
  readonly phaseBefore: SyncPhase;
  readonly phaseAfter: SyncPhase;
  /** The sync grace had run out: the core completed the sync before it handled the input. */
  readonly graceExpired: boolean;
}

export interface Charge {
  readonly op: CoreOperation;
  readonly times: number;
}

/**
 * Drops decided after a full decode cost what the measured stale drop does (decode, a comparison or
 * a table look-up, the drop); the decoder's own rejections what the measured bad-payload drop does.
 */
const DROP_COST: Readonly<Record<DropReason, CoreOperation>> = {
  "bad-topic": "badTopic",
  "bad-id": "badPayload",
  "bad-payload": "badPayload",
  "wrong-version": "badPayload",
  "too-long": "badPayload",
  "self-follow": "reportStale",
  "follows-full": "reportStale",
  "not-following": "reportStale",
  stale: "reportStale",
};

/** The operations one step is charged, in the order the core did them. */
export function classify(step: CoreStep): Charge[] {
  const { input, outputs } = step;
  const completed = step.phaseBefore === "syncing" && step.phaseAfter === "synced";
  const once = (op: CoreOperation): Charge => ({ op, times: 1 });
  switch (input.type) {
    case "boot":
    case "connected":
    case "disconnected":
    case "tick":
      // A tick does work only when it ends the sync grace.
      return [once(input.type === "tick" && completed ? "syncComplete" : input.type)];
    case "press": {
      const pre = completed ? [once("syncComplete")] : [];
      // A press the core holds while syncing publishes nothing.
      const held = !outputs.some((o) => o.type === "publish");
      return [...pre, once(held ? "pressHeld" : "press")];
    }
    case "message": {
      // The message that completes the sync is the measured sync itself (its parse included).
      if (completed && !step.graceExpired) return [once("syncComplete")];
      const pre = completed ? [once("syncComplete")] : [];
      return [...pre, ...message(input.topic, input.payload, outputs)];
    }
    default:
      assertNever(input);
  }
}

function message(topic: string, payload: string, outputs: readonly CoreOutput[]): Charge[] {
  const once = (op: CoreOperation): Charge[] => [{ op, times: 1 }];
  const drop = outputs.find((o) => o.type === "drop");
  if (drop !== undefined) return once(DROP_COST[drop.reason]);
  const publishes = outputs.some((o) => o.type === "publish");
  // Accepted, so the topic is `<prefix>/<kind>[/<id>]` and the prefix is one level.
  const kind = topic.split("/")[1];
  switch (kind) {
    case "report":
      // A report adopted and forwarded, or an own report older than the node's state (answered);
      // else compared and ignored — the echo of the node's own report is this case.
      return once(publishes ? "sourceReportApplied" : "reportStale");
    case "state":
      return once("stateCommand");
    case "subscribe":
      // An accepted F1 always publishes the config: one that adds a source, and one already
      // followed, which answers with the config unchanged (the nearest measured figure; it skips
      // the subscribe). `commandIgnored` is no longer charged.
      return once("subscribeCommand");
    case "unsubscribe":
      return once("unsubscribeCommand");
    case "query":
      return once("query");
    case "config": {
      // `C1 <version> <source>…`: parsing and the subscribe diff grow with the sources.
      const sources = payload.split(" ").length - 2;
      const charges: Charge[] = [{ op: "retainedConfig", times: 1 }];
      if (sources > 1) charges.push({ op: "configPerSource", times: sources - 1 });
      return charges;
    }
    default:
      // No other topic is accepted without a drop (status and register are bad-topic drops).
      return once("badTopic");
  }
}

/** The cycles of one step: the sum of its charges at the profile's figures. */
export function coreCost(cycles: CoreCycles, step: CoreStep): number {
  let total = 0;
  for (const c of classify(step)) total += cycles[c.op] * c.times;
  return total;
}
