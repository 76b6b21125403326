/**
 * What the freeze tests share (keepalive-freeze.test.ts, deadline-freeze.test.ts,
 * frozen-together.test.ts, handshake-freeze.test.ts): an aedes broker whose timeouts run on a fake
 * clock while its streams' reads and setImmediate stay real, a client connection whose bytes reach
 * the broker's stream unread until the event loop turns, the wills the broker publishes, and a
 * node's CONNECT with its will, as the fleet's nodes send it.
 */
import { Duplex } from "node:stream";
import { Aedes, type Client, type PublishPacket } from "aedes";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import mqttPacket from "mqtt-packet";
import { vi } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import type { PatchedAedesOptions } from "../aedes-options.js";
import type { ConnectWaits } from "../connect-budget.js";
import { type JustStalled, stalledBy } from "../ready-io.js";

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

/**
 * A broker on fake timeouts (call `closeFrozenBroker` after), the wills it publishes collected;
 * `stalled` is its sense of its own stalls (broker/ready-io.ts), which its keepalive check asks.
 */
export async function openFrozenBroker(stalled?: JustStalled): Promise<FrozenBroker> {
  // Only the timeouts are faked: the stream's reads and setImmediate stay real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  const persistence = new MemoryPersistence();
  const options: PatchedAedesOptions = {
    persistence: persistence as never,
    ...(stalled === undefined ? {} : { stalled }),
  };
  const aedes = await Aedes.createBroker(options);
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

/** A connection accepted now, its CONNECT wait started as the broker's listeners start it. */
export function acceptConnection(
  aedes: Aedes,
  waits: ConnectWaits,
  connectTimeoutMs: number,
): { conn: Connection; client: Client } {
  const conn = new Connection();
  const client = aedes.handle(conn);
  waits.start(client, performance.now(), connectTimeoutMs);
  return { conn, client };
}

/** A node connected with its will, as the fleet's nodes are. */
export async function connectedNode(
  aedes: Aedes,
  id: string,
  keepaliveS: number,
): Promise<{ conn: Connection; client: Client }> {
  const conn = new Connection();
  const client = aedes.handle(conn);
  const ready = new Promise<void>((resolve) => aedes.once("clientReady", () => resolve()));
  conn.arrive(nodeConnect(id, keepaliveS));
  await ready;
  return { conn, client };
}

/** The messages of the errors the broker reports on its clients and connections, in order. */
export function connectionErrors(aedes: Aedes): string[] {
  const errors: string[] = [];
  aedes.on("clientError", (_client: Client, err: Error) => errors.push(err.message));
  aedes.on("connectionError", (_client: Client, err: Error) => errors.push(err.message));
  return errors;
}

/** The previous run's will of `id`, stored under another broker id, as a restarted `--data` holds. */
export async function storeStaleWill(
  persistence: MemoryPersistence,
  id: string,
  topic = `tf/status/${id}`,
  payload = "T1 0",
): Promise<void> {
  const store = persistence as unknown as {
    putWill(client: { id: string }, packet: object): Promise<void>;
    getWill(client: { id: string }): Promise<{ brokerId: string }>;
  };
  await store.putWill(
    { id },
    {
      cmd: "publish",
      topic,
      payload: Buffer.from(payload),
      qos: 1,
      retain: true,
      dup: false,
    },
  );
  // MemoryPersistence stores it under this broker's id: the previous run had another.
  (await store.getWill({ id })).brokerId = "previous-run";
}

/**
 * The broker's own clock for its stall watch (node/stall-watch.ts), moved with the fake timeouts:
 * `run` while the broker runs (the watch ticks on time), `freeze` while it does not (no tick runs
 * until the end), each advancing the fake timeouts by as much.
 */
export class BrokerClock {
  readonly sched = new FakeScheduler(0);
  readonly watch = new StallWatch(this.sched);
  readonly stalled: JustStalled = stalledBy(this.watch, () => this.sched.now());

  run(ms: number): void {
    this.sched.advance(ms);
    vi.advanceTimersByTime(ms);
  }

  /** The process stops for `ms`: when it runs again the timers that came due fire at once. */
  freeze(ms: number): void {
    this.sched.jump(ms);
    vi.advanceTimersByTime(ms);
  }
}
