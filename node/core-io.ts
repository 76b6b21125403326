/**
 * What NodeCore (core.ts) is given and what it gives back: its configuration, the inputs a board
 * feeds it, the outputs it asks the board to perform, and the state it holds in RAM. The board
 * (board.ts), the MQTT node (mqtt-node.ts) and the pricing of a step (core-cost.ts) speak these
 * without the machine itself.
 */
import type { DropReason, NodeId, NodeKind, Prefix, Stamp } from "../protocol/index.js";

export interface NodeCoreConfig {
  readonly id: NodeId;
  readonly prefix: Prefix;
  readonly kind: NodeKind;
  readonly profile: string;
  readonly firmware: string;
  /** How long after CONNACK the node waits for its retained config and report (§5.1). */
  readonly syncGraceMs: number;
}

export type CoreInput =
  | { readonly type: "boot" }
  | { readonly type: "connected" }
  | { readonly type: "disconnected" }
  | { readonly type: "message"; readonly topic: string; readonly payload: string; readonly qos?: 0 | 1 }
  | { readonly type: "press" }
  | { readonly type: "tick" };

export type CoreOutput =
  | { readonly type: "subscribe"; readonly topic: string; readonly qos: 0 | 1 }
  | { readonly type: "unsubscribe"; readonly topic: string }
  | { readonly type: "publish"; readonly topic: string; readonly payload: string; readonly retain: boolean }
  | { readonly type: "led"; readonly on: boolean }
  | { readonly type: "drop"; readonly reason: DropReason; readonly topic: string; readonly detail: string };

/** Where a node's protocol core is with the broker: not connected, catching up, in sync. */
export type SyncPhase = "offline" | "syncing" | "synced";

/** What the node holds in RAM, for views and tests. */
export interface NodeCoreState {
  readonly phase: SyncPhase;
  readonly on: boolean;
  readonly led: boolean;
  readonly stamp: Stamp;
  readonly clock: number;
  readonly sources: readonly NodeId[];
  readonly configVersion: number;
  readonly heldPresses: number;
}
