/**
 * The SRAM budget: what the sketch's parts take on the board, summed from the profile, and the check
 * that refuses a configuration that would not fit (the board would crash or corrupt its stack). The
 * PubSubClient buffer counts twice: PubSubClient mallocs it, and the sketch keeps a copy of that size
 * (firmware/twinfleet_node/twinfleet_node.ino).
 */
import { MAX_FOLLOWS } from "../protocol/index.js";
import type { DeviceProfile } from "./profile.js";

/** Bytes of PubSubClient 2.8's malloc'd buffer beyond its size (avr-libc's heap block header). */
const HEAP_HEADER_BYTES = 2;

export interface RamItem {
  readonly name: string;
  readonly bytes: number;
}

export interface RamBudget {
  readonly items: readonly RamItem[];
  readonly usedBytes: number;
  readonly sramBytes: number;
  readonly freeBytes: number;
}

export interface RamOptions {
  /** PubSubClient buffer size; the profile's mqtt.maxPacketBytes unless overridden. */
  readonly maxPacketBytes?: number;
}

export class RamBudgetError extends Error {
  override readonly name = "RamBudgetError";
  constructor(
    message: string,
    readonly budget: RamBudget,
  ) {
    super(message);
  }
}

export function ramBudget(profile: DeviceProfile, opts: RamOptions = {}): RamBudget {
  const r = profile.ram;
  const buffer = opts.maxPacketBytes ?? profile.mqtt.maxPacketBytes;
  const items: RamItem[] = [
    { name: "arduino core", bytes: r.arduinoCore },
    { name: "ethernet library", bytes: r.ethernetLibrary },
    { name: "pubsubclient object", bytes: r.pubsubClient },
    { name: "pubsubclient buffer", bytes: buffer + HEAP_HEADER_BYTES },
    // The sketch copies each message out of that buffer before the core runs on it (its replies
    // rewrite the buffer): char rx[MQTT_MAX_PACKET_SIZE], so it grows with the buffer.
    { name: "sketch receive copy", bytes: buffer },
    { name: "core state", bytes: r.coreFixed },
    { name: `core follows (${MAX_FOLLOWS})`, bytes: r.corePerFollow * MAX_FOLLOWS },
    { name: "sketch globals", bytes: r.sketch },
    { name: "stack", bytes: r.stack },
  ];
  const usedBytes = items.reduce((s, i) => s + i.bytes, 0);
  return { items, usedBytes, sramBytes: profile.mcu.sramBytes, freeBytes: profile.mcu.sramBytes - usedBytes };
}

/** Returns the budget, or throws RamBudgetError listing every part when it does not fit. */
export function checkRam(profile: DeviceProfile, opts: RamOptions = {}): RamBudget {
  const b = ramBudget(profile, opts);
  if (b.freeBytes < 0) {
    const parts = b.items.map((i) => `${i.name} ${i.bytes}`).join(", ");
    throw new RamBudgetError(
      `profile ${profile.name}: needs ${b.usedBytes} B of SRAM but the ${profile.mcu.name} has ${b.sramBytes} B ` +
        `(${-b.freeBytes} B over; ${parts})`,
      b,
    );
  }
  return b;
}
