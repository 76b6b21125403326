/**
 * What the freeze tests share (keepalive-freeze.test.ts, deadline-freeze.test.ts): an aedes broker
 * whose timeouts run on a fake clock while its streams' reads and setImmediate stay real, a client
 * connection whose bytes reach the broker's stream unread until the event loop turns, the wills the
 * broker publishes, and a node's CONNECT with its will, as the fleet's nodes send it.
 */
import { Duplex } from "node:stream";
import { Aedes, type PublishPacket } from "aedes";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import mqttPacket from "mqtt-packet";
import { vi } from "vitest";

/** A client's connection as the broker sees it: `arrive` is bytes reaching its socket buffer. */
export class Connection extends Duplex {
  readonly sent: Buffer[] = [];
  arrive(...packets: mqttPacket.Packet[]): void {
    this.push(Buffer.concat(packets.map((packet) => mqttPacket.generate(packet))));
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.sent.push(chunk);
    done();
  }
}

/** A node's CONNECT with its will, as the fleet's nodes send it. */
export const nodeConnect = (id: string, keepaliveS = 15): mqttPacket.Packet => ({
  cmd: "connect",
  protocolId: "MQTT",
  protocolVersion: 4,
  clean: true,
  clientId: id,
  keepalive: keepaliveS,
  will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
});

/** Lets the real event loop turn `turns` times: the stream's reads (next ticks) and check phases. */
export async function afterIo(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface FrozenBroker {
  readonly aedes: Aedes;
  readonly persistence: MemoryPersistence;
  /** The wills published, `topic payload`, in order. */
  readonly wills: string[];
}

/** A broker on fake timeouts (call `closeFrozenBroker` after), the wills it publishes collected. */
export async function openFrozenBroker(): Promise<FrozenBroker> {
  // Only the timeouts are faked: the stream's reads and setImmediate stay real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  const persistence = new MemoryPersistence();
  const aedes = await Aedes.createBroker({ persistence: persistence as never });
  const wills: string[] = [];
  await new Promise<void>((resolve) =>
    aedes.subscribe(
      "tf/status/+",
      (packet: PublishPacket, cb: () => void) => {
        wills.push(`${packet.topic} ${packet.payload.toString()}`);
        cb();
      },
      resolve,
    ),
  );
  return { aedes, persistence, wills };
}

export async function closeFrozenBroker(b: FrozenBroker): Promise<void> {
  await new Promise<void>((resolve) => b.aedes.close(() => resolve()));
  vi.useRealTimers();
}
