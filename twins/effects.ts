/**
 * What the registry tells the service a message or command changed (TwinRegistry's effects): the
 * service emits the events, stores, reconciles and puts back from them.
 */
import type { NodeId } from "../protocol/index.js";
import type { BadInput, TwinChange } from "./types.js";

export type RegistryEffect =
  /**
   * `first`: a node the service never knew (not registered since it started, nor in its store).
   * `again`: a node online and registered since it came online, its kind, profile and firmware
   * unchanged (its answer to a query): nothing new.
   */
  | { readonly type: "registered"; readonly node: NodeId; readonly first: boolean; readonly again: boolean }
  /**
   * `replayed`: a state that stood when the service subscribed, not one a node changed just now: a
   * report or config the broker delivered from its retained copy (the MQTT retain flag), or a
   * node's first report since the subscription (its answer to the service's query, which can
   * overtake the broker's replay).
   */
  | { readonly type: "updated"; readonly node: NodeId; readonly change: TwinChange; readonly replayed?: true }
  /** `dropped`: the configs this service wrote while the node was away are no longer kept: store that. */
  | { readonly type: "online"; readonly node: NodeId; readonly dropped?: true }
  /** `unheard`: taken offline from `unheard` (not heard since a broker restart), not from online. */
  | { readonly type: "offline"; readonly node: NodeId; readonly unheard?: true }
  /** Shown online only by the status a restarted broker kept: not heard since (twins/node-presence.ts). */
  | { readonly type: "unheard"; readonly node: NodeId }
  | { readonly type: "bad-input"; readonly input: BadInput }
  /** The desired state changed and must be stored (`replaced`: the sources another tool's config replaced). */
  | {
      readonly type: "desired-changed";
      readonly node: NodeId;
      readonly replaced?: readonly NodeId[];
      /** What was replaced was the store's desire, no config of the node seen since the start. */
      readonly fromStore?: true;
    }
  /** The node, online, showed a config other than the desired one: send it the pairing again. */
  | { readonly type: "reconcile"; readonly node: NodeId }
  /**
   * Another control tool's config for the offline node crossed one this service wrote: same version,
   * other sources (twins/crossed-writes.ts). `ours`: what this service wrote at that version;
   * `desired`: its desire now (a later write may have moved it); `merged`: the desire with the other's
   * change on top, absent when it would pass the protocol's limit of sources.
   */
  | {
      readonly type: "crossed";
      readonly node: NodeId;
      readonly version: number;
      readonly theirs: readonly NodeId[];
      readonly ours: readonly NodeId[];
      readonly desired: readonly NodeId[];
      readonly merged?: readonly NodeId[];
    }
  /** The broker holds an older report of the node than the twin: put the twin's back (broker-copy.ts). */
  | { readonly type: "put-back"; readonly node: NodeId }
  /** The broker holds an older config of the node than the twin (broker-copy.ts): told, the pairing pending. */
  | { readonly type: "config-behind"; readonly node: NodeId; readonly version: number; readonly twin: number }
  | { readonly type: "forgotten"; readonly node: NodeId; readonly retired?: true };

/** `node`'s `change`, flagged `replayed` when it stood before the service subscribed. */
export function updated(node: NodeId, change: TwinChange, replayed: boolean): RegistryEffect {
  return replayed ? { type: "updated", node, change, replayed: true } : { type: "updated", node, change };
}
