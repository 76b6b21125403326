/**
 * What the PubSubClient session (node/pubsub-session.ts) is given by the board around it: its
 * options (profile, CPU, W5100 socket, link, scheduler, event sink, buffer size) and the host's
 * callbacks (the loop's job, the sketch's message callback and its code after connect()).
 */
import type { NodeId, Prefix } from "../protocol/index.js";
import type { Cpu } from "./cpu.js";
import type { Link } from "./link.js";
import type { DisconnectReason, NodeEventSink } from "./metrics.js";
import type { DeviceProfile } from "./profile.js";
import type { Scheduler } from "./scheduler.js";
import type { W5100Socket } from "./w5100-socket.js";

export type MqttPhase = "disconnected" | "connecting" | "connected";

/** What the session needs from the board around it. */
export interface SessionHost {
  /** The running job ends: the loop is free again and its wake-up is re-armed. */
  endJob(): void;
  /** Something the loop waits for changed: re-arm its wake-up. */
  schedule(): void;
  /** The sketch's callback for an incoming PUBLISH (before its PUBACK). */
  message(topic: string, payload: string, qos: 0 | 1): void;
  /** readPacket() held the loop for a slow packet and returned: `gone`, the session is lost. */
  readEnded(gone: DisconnectReason | undefined): void;
  /** connect() returned true: the sketch's code after it runs in the same job. */
  connected(): void;
}

export interface SessionOptions {
  readonly node: NodeId;
  readonly prefix: Prefix;
  readonly profile: DeviceProfile;
  readonly cpu: Cpu;
  readonly chip: W5100Socket;
  readonly link: Link;
  readonly sched: Scheduler;
  readonly sink: NodeEventSink;
  readonly host: SessionHost;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PubSubClient's buffer (MQTT_MAX_PACKET_SIZE). */
  readonly maxPacketBytes: number;
}
