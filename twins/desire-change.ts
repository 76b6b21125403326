/**
 * A desire changed: an online node gets the commands now, an offline one a retained config of a
 * higher version and the commands when it registers (protocol §6); stored unsent while the broker is
 * away (twins/broker-away.ts).
 */
import type { Logger } from "pino";
import type { Message, NodeId } from "../protocol/index.js";
import { type PairingOutcome, TwinsCommandError } from "./api.js";
import { sendOrHold } from "./broker-away.js";
import { type CrossedEffect, crossedLine } from "./crossed-writes.js";
import type { RegistryEffect } from "./effects.js";
import type { OfflineWritesLog } from "./offline-writes-log.js";
import { pairError } from "./pairing.js";
import type { Reconciler } from "./reconcile.js";
import type { TwinRegistry } from "./registry.js";

export interface DesireChangeDeps {
  readonly registry: TwinRegistry;
  readonly reconciler: Reconciler;
  readonly apply: (effects: readonly RegistryEffect[]) => void;
  readonly send: (msg: Message) => Promise<void>;
  readonly logger: Logger;
  /** The lines of configs written for nodes away, a bulk re-pairing's grouped (twins/offline-writes-log.ts). */
  readonly offlineWrites: OfflineWritesLog;
}

/** `follower` follows `source` from now on (a command: TwinsService.pair). */
export function pairDesired(d: DesireChangeDeps, follower: NodeId, source: NodeId): Promise<PairingOutcome> {
  const desired = d.registry.get(follower)?.desired.sources ?? [];
  const err = pairError(follower, source, desired);
  if (err) throw err;
  if (!desired.includes(source)) return changeDesired(d, follower, [...desired, source]);
  return alreadyDesired(d, follower);
}

/** `follower` no longer follows `source` (a command: TwinsService.unpair). */
export function unpairDesired(
  d: DesireChangeDeps,
  follower: NodeId,
  source: NodeId,
): Promise<PairingOutcome> {
  const twin = d.registry.get(follower);
  const desired = twin?.desired.sources ?? [];
  if (!desired.includes(source) && !(twin?.follows ?? []).includes(source))
    throw new TwinsCommandError(`${follower} does not follow ${source}`);
  return changeDesired(
    d,
    follower,
    desired.filter((x) => x !== source),
  );
}

export function changeDesired(d: DesireChangeDeps, node: NodeId, sources: NodeId[]): Promise<PairingOutcome> {
  const twin = d.registry.get(node);
  const version = d.registry.nextWriteVersion(node);
  if (twin?.presence === "online") {
    d.apply(d.registry.setDesiredSources(node, sources, version - 1, version));
    return sendOrHold(node, () => d.reconciler.reconcile(node, true), d.logger);
  }
  d.apply(d.registry.setDesiredSources(node, sources, version));
  return sendOrHold(
    node,
    async () => {
      await d.send({ kind: "config", node, version, sources });
      d.offlineWrites.written(node, version, sources);
    },
    d.logger,
  );
}

/** A pairing the desire holds already: an online node is sent what it is missing; for one away nothing is written. */
export async function alreadyDesired(d: DesireChangeDeps, node: NodeId): Promise<PairingOutcome> {
  const outcome = await sendOrHold(node, () => d.reconciler.reconcile(node, true), d.logger);
  return outcome.sent ? { sent: true, already: true } : outcome;
}

/**
 * After two pairings of an offline node crossed (twins/crossed-writes.ts): the desire that stands,
 * both operators' changes in it, written again above both writes, and told.
 */
export function rewriteCrossed(d: DesireChangeDeps, e: CrossedEffect): void {
  const sources = [...(e.merged ?? e.desired)];
  d.logger.warn(
    { node: e.node, version: e.version, theirs: e.theirs, ours: e.ours, sources },
    `twins: ${crossedLine(e)}`,
  );
  changeDesired(d, e.node, sources).catch((err: unknown) =>
    d.logger.warn(
      { err, node: e.node },
      "twins: the pairing that stands after two crossed writes was not written",
    ),
  );
}
