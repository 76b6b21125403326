/**
 * A node's register: its identity shown (a change while online counted as an identity conflict), the
 * node online, and — when the broker holds no config of it — its pairing pending again
 * (twins/broker-copy.ts). Pure on the twin; the registry makes the effects.
 */
import type { NodeId, RegisterMessage } from "../protocol/index.js";
import { configLostAtRegister } from "./broker-copy.js";
import { desireAfterPresence } from "./desire.js";
import type { FollowGraph } from "./follow-graph.js";
import type { RegistryEffect } from "./registry.js";
import { desireStateOf, type TwinRecord } from "./twin-record.js";
import type { BadInputReason } from "./types.js";

type Bad = (reason: BadInputReason, topic: string, detail: string, node?: NodeId) => RegistryEffect;

export function registerEffects(
  t: TwinRecord,
  msg: RegisterMessage,
  topic: string,
  now: number,
  on: { readonly twins: ReadonlyMap<NodeId, TwinRecord>; readonly graph: FollowGraph; readonly bad: Bad },
): RegistryEffect[] {
  const first = !t.registered;
  // A node whose identity the store kept (a restarted service) is known, not new: not `first`.
  const known = t.kind !== undefined;
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
  t.registeredSinceOnline = true;
  if (t.presence !== "online") {
    t.presence = "online";
    t.sessionVersion = undefined;
    out.push({ type: "online", node: t.id });
  }
  // With no status heard since its config, a register says the node synced before the service saw it.
  out.push(...presenceHeard(t, true));
  out.push({ type: "registered", node: t.id, first: first && !known });
  if (first || changed) out.push({ type: "desired-changed", node: t.id });
  out.push(...configLostAtRegister(t, on.twins, on.graph));
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
  t.confirmed = d.next.confirmed;
  return d.changed
    ? [
        { type: "updated", node: t.id, change: "desired" },
        { type: "desired-changed", node: t.id },
      ]
    : [];
}
