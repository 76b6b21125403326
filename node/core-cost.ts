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
import type { CoreInput, CoreOutput, SyncPhase } from "./core-io.js";
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
  "implausible-counter": "reportStale",
};

/** Told each charge of a step in turn: collects them (`classify`) or sums their cycles (`coreCost`). */
type ChargeSink = (op: CoreOperation, times: number) => void;

/** The operations one step is charged, in the order the core did them. */
export function classify(step: CoreStep): Charge[] {
  const charges: Charge[] = [];
  charge(step, (op, times) => charges.push({ op, times }));
  return charges;
}

/**
 * The cycles of one step: the sum of its charges at the profile's figures, added in the order of
 * `classify`. Called for every step of every node, so it makes no arrays and no closure per call.
 */
export function coreCost(cycles: CoreCycles, step: CoreStep): number {
  sum.cycles = cycles;
  sum.total = 0;
  charge(step, addToSum);
  return sum.total;
}

const sum: { cycles: CoreCycles | undefined; total: number } = { cycles: undefined, total: 0 };
const addToSum: ChargeSink = (op, times) => {
  sum.total += (sum.cycles as CoreCycles)[op] * times;
};

function charge(step: CoreStep, add: ChargeSink): void {
  const { input, outputs } = step;
  const completed = step.phaseBefore === "syncing" && step.phaseAfter === "synced";
  switch (input.type) {
    case "boot":
    case "connected":
    case "disconnected":
    case "tick":
      // A tick does work only when it ends the sync grace.
      add(input.type === "tick" && completed ? "syncComplete" : input.type, 1);
      return;
    case "press":
      if (completed) add("syncComplete", 1);
      // A press the core holds while syncing publishes nothing.
      add(publishes(outputs) ? "press" : "pressHeld", 1);
      return;
    case "message":
      // The message that completes the sync is the measured sync itself (its parse included).
      if (completed && !step.graceExpired) {
        add("syncComplete", 1);
        return;
      }
      if (completed) add("syncComplete", 1);
      message(input.topic, input.payload, outputs, add);
      return;
    default:
      assertNever(input);
  }
}

function publishes(outputs: readonly CoreOutput[]): boolean {
  for (const o of outputs) if (o.type === "publish") return true;
  return false;
}

/** The topic's second level (`<prefix>/<kind>/…` → kind), or undefined when it has none. */
function secondLevel(topic: string): string | undefined {
  const a = topic.indexOf("/");
  if (a < 0) return undefined;
  const b = topic.indexOf("/", a + 1);
  return b < 0 ? topic.slice(a + 1) : topic.slice(a + 1, b);
}

function message(topic: string, payload: string, outputs: readonly CoreOutput[], add: ChargeSink): void {
  for (const o of outputs) {
    if (o.type === "drop") {
      add(DROP_COST[o.reason], 1);
      return;
    }
  }
  // Accepted, so the topic is `<prefix>/<kind>[/<id>]` and the prefix is one level.
  switch (secondLevel(topic)) {
    case "report":
      // A report adopted and forwarded, or an own report older than the node's state (answered);
      // else compared and ignored — the echo of the node's own report is this case.
      add(publishes(outputs) ? "sourceReportApplied" : "reportStale", 1);
      return;
    case "state":
      add("stateCommand", 1);
      return;
    case "subscribe":
      // An accepted F1 always publishes the config: one that adds a source, and one already
      // followed, which answers with the config unchanged (the nearest measured figure; it skips
      // the subscribe). `commandIgnored` is no longer charged.
      add("subscribeCommand", 1);
      return;
    case "unsubscribe":
      add("unsubscribeCommand", 1);
      return;
    case "query":
      add("query", 1);
      return;
    case "config": {
      // `C1 <version> <source>…`: parsing and the subscribe diff grow with the sources.
      const sources = payload.split(" ").length - 2;
      add("retainedConfig", 1);
      if (sources > 1) add("configPerSource", sources - 1);
      return;
    }
    default:
      // No other topic is accepted without a drop (status and register are bad-topic drops).
      add("badTopic", 1);
  }
}
