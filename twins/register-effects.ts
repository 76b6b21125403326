/**
 * What a node's register, presence or config does to its twin's desired pairing: its identity shown
 * (a change while online counted as an identity conflict), the node online, and — when the broker
 * holds no config of it — its pairing pending again (twins/broker-copy.ts); a config seen adopted,
 * confirmed or re-sent (twins/desire.ts). Pure on the twin; the registry makes the effects.
 */
import type { NodeId, RegisterMessage } from "../protocol/index.js";
import type { ClearedEffect } from "./cleared.js";
import { desireAfterConfig, desireAfterPresence, sameSet } from "./desire.js";
import type { RegistryEffect } from "./effects.js";
import { desireStateOf, onlineEffect, setPresence, type TwinRecord } from "./twin-record.js";
import type { BadInputReason, ReportedConfig } from "./types.js";

/**
 * Why a register replayed for a subscription is dropped. A register is never retained (protocol.md
 * §3); one published with the retain flag (a buggy board, a tool) stayed on the broker, through its
 * restarts, and was taken at every start of a control server for the node answering its query: a
 * dead node shown online, its kind replaced, a forgotten made-up id back as new.
 */
export const RETAINED_REGISTER =
  "a retained register, replayed for the subscription: ignored (a register is never retained, protocol.md §3; clear it with an empty retained publish on its topic)";

type Bad = (reason: BadInputReason, topic: string, detail: string, node?: NodeId) => RegistryEffect;

export function registerEffects(
  t: TwinRecord,
  msg: RegisterMessage,
  topic: string,
  now: number,
  on: { readonly bad: Bad; readonly configLost: (t: TwinRecord) => ClearedEffect[] },
): RegistryEffect[] {
  const first = !t.registered;
  // A node whose identity the store kept (a restarted service) is known, not new: not `first`.
  const known = t.kind !== undefined;
  // Registered already since it came online: a register that tells nothing new unless it changed.
  const sameSession = !first && t.presence === "online" && t.registeredSinceOnline;
  t.registered = true;
  if (first) t.registeredAt = now;
  const out: RegistryEffect[] = [];
  const changed =
    t.kind !== undefined &&
    (t.kind !== msg.nodeKind || t.profile !== msg.profile || t.firmware !== msg.firmware);
  if (changed && t.presence === "online" && t.registeredSinceOnline) {
    // Two devices answering to one id, or a device lying about what it is; the newest claim is
    // shown, but it is counted so an operator can look.
    out.push(
      on.bad(
        "identity-conflict",
        topic,
        `registered as ${t.kind} ${t.profile} ${t.firmware}, now ${msg.nodeKind} ${msg.profile} ${msg.firmware} without going offline`,
        msg.node,
      ),
    );
  }
  t.kind = msg.nodeKind;
  t.profile = msg.profile;
  t.firmware = msg.firmware;
  t.lastSeen = now;
  const hadWrites = t.offlineWrites !== undefined;
  if (setPresence(t, "online")) out.push(onlineEffect(t.id, hadWrites));
  t.registeredSinceOnline = true;
  // With no status heard since its config, a register says the node synced before the service saw it.
  out.push(...presenceHeard(t, true));
  out.push({ type: "registered", node: t.id, first: first && !known, again: sameSession && !changed });
  if (first || changed) out.push({ type: "desired-changed", node: t.id });
  out.push(...on.configLost(t)); // the broker holds no config of it (twins/broker-copy.ts)
  return out;
}

/**
 * A presence heard for the node (a status, a register): it settles a desire adopted from a config
 * seen while its presence was unknown (desireAfterPresence); `own`: it shows that config is the node's.
 */
export function presenceHeard(t: TwinRecord, own: boolean): RegistryEffect[] {
  if (!t.unattributed) return [];
  const d = desireAfterPresence(desireStateOf(t), own);
  t.unattributed = false;
  // Shown the node's own, the config is what it follows (`follows`) until it says otherwise: a write
  // for it while it is away is not, until it takes it. A watch that sends no commands (a run's beside
  // a running service) otherwise never heard the node's own, and moved `follows` at each write.
  if (own && t.config !== undefined) t.nodeConfig = t.config;
  t.confirmed = d.next.confirmed;
  return d.changed
    ? [
        { type: "updated", node: t.id, change: "desired" },
        { type: "desired-changed", node: t.id },
      ]
    : [];
}

/** A config seen for the node (its own, or another tool's write): the desire it leaves. */
export function configSeen(t: TwinRecord, seen: ReportedConfig): RegistryEffect[] {
  const was = t.desiredKnown ? t.desired.sources : undefined;
  const d = desireAfterConfig(desireStateOf(t), seen, t.presence);
  const fromStore = t.restored;
  t.provisional = false;
  t.restored = false;
  t.unattributed = d.next.unattributed === true;
  t.desired = d.next.desired;
  t.desiredKnown = d.next.known;
  t.confirmed = d.next.confirmed;
  t.ownWrites = d.next.ownWrites;
  const out: RegistryEffect[] = [];
  if (d.changed) {
    // A config changes the desired sources only when another tool commanded or wrote them.
    const replaced =
      was !== undefined && !sameSet(was, t.desired.sources)
        ? { replaced: was, ...(fromStore ? { fromStore: true as const } : {}) }
        : {};
    out.push(
      { type: "updated", node: t.id, change: "desired" },
      { type: "desired-changed", node: t.id, ...replaced },
    );
  }
  if (d.reconcile) out.push({ type: "reconcile", node: t.id });
  return out;
}
