/**
 * PubSubClient 2.8's writing as the board runs it: publish(), subscribe(), unsubscribe() and the
 * packet ids, its own check against its buffer (over it, nothing is sent), and every write through
 * the W5100 (waiting for TX room, charged to the board's CPU), and what they leave in its buffer. The session (node/pubsub-session.ts)
 * is built on it; it owns the MQTT counters and the time of the last packet out.
 */
import { generate } from "mqtt-packet";
import { BoardBuffer } from "./board-publish.js";
import type { Cpu } from "./cpu.js";
import type { MqttStats } from "./metrics.js";
import { countDrop, newMqttStats } from "./metrics.js";
import { quickPublish, quickSubscribe } from "./mqtt-frames.js";
import type { DeviceProfile } from "./profile.js";
import { pubsubPublishBytes, pubsubSubscribeBytes } from "./pubsub-buffer.js";
import type { SessionOptions } from "./session-host.js";
import type { W5100Socket } from "./w5100-socket.js";

export class PubSubWriter {
  readonly stats: MqttStats = newMqttStats();
  protected readonly p: DeviceProfile;
  protected readonly cpu: Cpu;
  protected readonly chip: W5100Socket;
  /** What the client's packets left at bytes 4 and 5 of its buffer (node/board-publish.ts). */
  protected readonly buffer = new BoardBuffer();
  /** When the last packet went out (lastOutActivity). */
  protected lastOut = 0;
  private nextMsgId = 1;

  constructor(protected readonly o: SessionOptions) {
    this.p = o.profile;
    this.cpu = o.cpu;
    this.chip = o.chip;
  }

  publish(topic: string, payload: string, retain: boolean): void {
    if (this.overBuffer(pubsubPublishBytes(topic, payload))) return;
    this.send(quickPublish(topic, payload, retain));
  }

  subscribe(topic: string, qos: 0 | 1): void {
    if (this.overBuffer(pubsubSubscribeBytes(topic))) return;
    this.send(quickSubscribe(this.msgId(), topic, qos));
  }

  unsubscribe(topic: string): void {
    if (this.overBuffer(pubsubSubscribeBytes(topic))) return;
    this.send(generate({ cmd: "unsubscribe", messageId: this.msgId(), unsubscriptions: [topic] }));
  }

  /** PubSubClient's own check before it builds a packet: over its buffer, nothing is sent. */
  protected overBuffer(needs: number): boolean {
    if (needs > this.o.maxPacketBytes) this.stats.oversizedPublishes++;
    return needs > this.o.maxPacketBytes;
  }

  /**
   * loop() gave the callback a length wrapped below zero (65534 on an Uno), which the sketch's
   * copyReceived refuses: its drop (`too-long`, no topic), the core never told.
   */
  protected refused(): void {
    countDrop(this.stats.drops, "too-long");
    this.o.sink({ type: "drop", node: this.o.node, at: this.cpu.t, reason: "too-long", topic: "" });
  }

  private msgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id >= 65_535 ? 1 : id + 1;
    return id;
  }

  /** PubSubClient write: build the packet, wait for TX room, copy it to the W5100 and SEND. */
  protected send(bytes: Buffer): void {
    if (this.overBuffer(bytes.length)) return;
    const c = this.p.cycles;
    const cpu = this.cpu;
    cpu.spend(c.packetBuildPerByte * bytes.length); // the core's payload is priced in its step
    const sock = this.chip.openAt(cpu.t);
    if (sock === undefined) return;
    // A packet that fits waits until the socket's free TX size takes all of it (EthernetClient write).
    // Only a Linux TCP sends a larger one (profile.ts refuses a W5100 TX buffer smaller than a packet):
    // its blocking send() returns once the last byte is in, when at most `tx` bytes are unacknowledged.
    const tx = this.p.w5100.txBufferBytes;
    const fits = bytes.length <= tx;
    if (fits) cpu.blockUntil(sock.up.drainedTo(tx - bytes.length, cpu.t));
    cpu.spend(c.spiWritePerByte * bytes.length + c.sendOverhead);
    sock.up.send(bytes, cpu.t);
    this.buffer.wrote(bytes);
    if (!fits) cpu.blockUntil(sock.up.drainedTo(tx, cpu.t));
    this.lastOut = cpu.t;
    this.stats.packetsOut++;
  }
}
