/**
 * What a twins service would know of a virtual-time fleet, read from the in-memory broker's traffic:
 * which nodes registered (their register message), reported a state, and are online or offline by
 * their status (the will included). A virtual run without twins (`twins: false`) has no service;
 * this is how it still times registration as the paper does — register, state and presence seen by the control side — and says
 * which nodes went offline, for the fault analysis.
 */
import { EventEmitter } from "node:events";
import { decode, type NodeId, type Prefix, ProtocolError } from "../protocol/index.js";
import type { MemoryBroker } from "./memory-broker.js";

export interface RegistryEntry {
  readonly id: NodeId;
  registered: boolean;
  reported: boolean;
  online: boolean;
}

export interface BrokerRegistryEvents {
  /** A register message from a node (every one, the first and each after a reboot). */
  registered: [RegistryEntry];
  /** Its register, report or presence changed. */
  updated: [RegistryEntry];
  offline: [RegistryEntry];
}

export class BrokerRegistry extends EventEmitter<BrokerRegistryEvents> {
  private readonly entries = new Map<string, RegistryEntry>();
  private readonly register: string;
  private readonly report: string;
  private readonly status: string;
  /** Publishes the registry could not read (not the protocol's): counted, as the twins count bad input. */
  badInput = 0;

  constructor(
    /** The in-memory broker, or any feed of the publishes a broker carries (a subscribed client). */
    broker: Pick<MemoryBroker, "tap">,
    private readonly prefix: Prefix,
  ) {
    super();
    this.register = `${prefix}/register/`;
    this.report = `${prefix}/report/`;
    this.status = `${prefix}/status/`;
    broker.tap((topic, payload) => this.seen(topic, payload));
  }

  get(id: string): RegistryEntry | undefined {
    return this.entries.get(id);
  }

  private seen(topic: string, payload: Buffer): void {
    const isRegister = topic.startsWith(this.register);
    const isStatus = !isRegister && topic.startsWith(this.status);
    // A report matters only until the node's first: followers re-publish sources' reports all run long.
    const isReport = !isRegister && !isStatus && topic.startsWith(this.report);
    if (!isRegister && !isStatus && !isReport) return;
    if (isReport && this.entries.get(topic.slice(this.report.length))?.reported) return;
    if (payload.length === 0) return; // a retained message cleared
    let m: ReturnType<typeof decode>;
    try {
      m = decode(this.prefix, topic, payload);
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.badInput++;
        return;
      }
      throw e;
    }
    switch (m.kind) {
      case "register": {
        const e = this.entry(m.node);
        e.registered = true;
        this.emit("registered", e);
        this.emit("updated", e);
        break;
      }
      case "report": {
        const e = this.entry(m.node);
        e.reported = true;
        this.emit("updated", e);
        break;
      }
      case "status": {
        const e = this.entry(m.node);
        if (e.online === m.online) break;
        e.online = m.online;
        if (!m.online) this.emit("offline", e);
        this.emit("updated", e);
        break;
      }
      default:
        break;
    }
  }

  private entry(id: NodeId): RegistryEntry {
    let e = this.entries.get(id);
    if (!e) {
      e = { id, registered: false, reported: false, online: false };
      this.entries.set(id, e);
    }
    return e;
  }
}
