/**
 * PubSubClient 2.8's session as the board runs it: the sketch's reconnect() (TCP handshake, then a
 * CONNECT that blocks until CONNACK or the socket timeout), keepalive (PINGREQ after a quiet
 * keepalive period, the link declared dead when the next check finds it unanswered), reading one
 * packet per loop() iteration (PUBACK for QoS 1 after the callback, packets over its buffer drained
 * and dropped, the loop held while a packet arrives slowly: node/slow-read.ts), on top of its
 * writing (node/pubsub-writer.ts). It owns the connect/disconnect events; every operation is
 * charged to the board's CPU.
 */
import { generate } from "mqtt-packet";
import { readGuardedPublish } from "./board-publish.js";
import type { ConnectFailure, DisconnectReason } from "./metrics.js";
import {
  announcedBytes,
  isAckOfSubscription,
  malformedHead,
  PacketReader,
  type PublishFields,
  publishFields,
  quickPuback,
  readBoardPublish,
} from "./mqtt-frames.js";
import { pubsubConnect, pubsubConnectBytes } from "./pubsub-buffer.js";
import { PubSubWriter } from "./pubsub-writer.js";
import type { Timer } from "./scheduler.js";
import type { MqttPhase, SessionOptions } from "./session-host.js";
import { SlowRead } from "./slow-read.js";
import type { SocketEvents } from "./w5100-socket.js";

export type { MqttPhase, SessionHost, SessionOptions } from "./session-host.js";

const PINGREQ = Buffer.from([0xc0, 0x00]); // one buffer for every ping (nothing writes into a sent packet)
const PINGRESP = Buffer.from([0xd0, 0x00]);

export class PubSubSession extends PubSubWriter {
  private mqtt: MqttPhase = "disconnected";
  private readonly keepaliveMs: number;
  /** The quick reader, and the full parser for the packets it leaves (PINGRESP, PINGREQ, a part-read PUBLISH). */
  private readonly reader = new PacketReader();
  private readonly socketEvents: SocketEvents;
  /** Where the PUBLISH being read lies in its bytes (reused per packet). */
  private readonly pub: PublishFields = publishFields();
  private lastIn = 0;
  private pingOutstanding = false;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private everConnected = false;
  private connectingSince = 0;
  private connackTimer: Timer | undefined;
  private answered = false; // the broker sent something after this connection's CONNACK
  /** Some bytes of the first packet after CONNECT are in (connect() is reading it). */
  private connackBegun = false;
  /** readPacket() waiting for the rest of a packet that arrives slowly. */
  private readonly slow: SlowRead;

  constructor(o: SessionOptions) {
    super(o);
    this.keepaliveMs = this.p.mqtt.keepaliveS * 1000;
    this.slow = new SlowRead(o.sched, this.p.mqtt.socketTimeoutS * 1000, (at) => this.gapped(at));
    this.socketEvents = {
      receive: (bytes, at) => this.receive(bytes, at),
      partial: (at) => this.partial(at),
      refused: (at) => this.connectRefused(at),
      died: () => this.o.host.schedule(),
    };
  }

  get phase(): MqttPhase {
    return this.mqtt;
  }

  get connected(): boolean {
    return this.mqtt === "connected";
  }

  /** Blocked in connect(), waiting for CONNACK. */
  get connecting(): boolean {
    return this.mqtt === "connecting";
  }

  /** The loop is held: in connect() waiting for CONNACK, or in readPacket() waiting for a packet's rest. */
  get blocked(): boolean {
    return this.mqtt === "connecting" || this.slow.held;
  }

  /** Power-on: the sketch's first loop() tries to connect at once. */
  powerOn(): void {
    this.lastAttempt = Number.NEGATIVE_INFINITY;
  }

  /** The power goes at `at`: the chip stops, a pending connect() is gone, the session is lost. */
  powerOff(at: number): void {
    const was = this.mqtt;
    this.slow.end();
    this.chip.cut(at);
    this.connackTimer?.cancel();
    if (was === "connected") {
      this.stats.disconnects++;
      this.stats.powerCuts++;
      this.o.sink({ type: "disconnected", node: this.o.node, at, reason: "power-off" });
    }
    this.mqtt = "disconnected";
  }

  /** When the loop next has session work (a packet to read, a dead socket, keepalive, a reconnect). */
  dueAt(): number {
    if (this.mqtt !== "connected") return this.lastAttempt + this.p.sketch.reconnectPeriodMs;
    let due = Number.POSITIVE_INFINITY;
    const head = this.chip.head;
    if (head) due = Math.min(due, head.at);
    else due = Math.min(due, this.chip.sock?.partialAt ?? due); // a packet's first bytes are in
    const closedAt = this.chip.sock?.closedAt;
    if (closedAt !== undefined) due = Math.min(due, closedAt);
    return Math.min(due, Math.min(this.lastIn, this.lastOut) + this.keepaliveMs);
  }

  /** The sketch's reconnect period has run out at `at`. */
  reconnectDue(at: number): boolean {
    return at >= this.lastAttempt + this.p.sketch.reconnectPeriodMs;
  }

  /** A packet is waiting in the RX buffer at `at`, or the first bytes of one (available() > 0). */
  packetReady(at: number): boolean {
    const head = this.chip.head;
    if (head !== undefined) return head.at <= at;
    const partialAt = this.chip.sock?.partialAt;
    return partialAt !== undefined && partialAt <= at;
  }

  // ---- bytes from the link ----

  private receive(bytes: Buffer, at: number): boolean {
    if (!this.cpu.powered) return true;
    // The W5100 keeps receiving into a 2 KB ring; when full the TCP window is closed.
    if (!this.chip.accept(bytes, at)) return false;
    if (this.mqtt === "connected") this.answered = true;
    if (this.mqtt === "connecting") this.connackArrived(at);
    else if (this.slow.held) this.readArrived(at);
    else this.o.host.schedule();
    return true;
  }

  /** More of a packet not whole yet reached the chip at `at`. */
  private partial(at: number): void {
    if (this.slow.held) this.slow.more(at);
    else if (this.mqtt === "connected") this.o.host.schedule();
    else if (this.mqtt === "connecting") this.connackPartial(at);
  }

  /**
   * Bytes of the first packet after CONNECT, not all of it, reached the chip at `at`: connect() is in
   * readPacket() now, whose readByte() waits up to the socket timeout for each byte afresh (no
   * longer from the CONNECT). Given up, it stops the socket with state() as it was (`bad-connack`).
   */
  private connackPartial(at: number): void {
    this.connackBegun = true;
    this.connackTimer?.cancel();
    const deadline = at + this.p.mqtt.socketTimeoutS * 1000;
    this.connackTimer = this.o.sched.at(deadline, () => this.connectTimedOut(deadline));
  }

  /** The last byte of the packet readPacket() waited for came at `at`: it is read, the loop goes on. */
  private readArrived(at: number): void {
    const loopAt = this.slow.end() ?? at;
    this.cpu.blockUntil(at);
    const gone = this.readPacket(loopAt, true);
    this.o.host.readEnded(gone === "reading" ? undefined : gone);
  }

  /**
   * readByte() gave up at `at`, 15 s after the packet's latest byte: readPacket() returns 0 and
   * loop() finds the socket closed (state() -3; the broker closed it meanwhile), or, still open,
   * the stream out of step with its packets: the model ends the session there (`read-timeout`).
   */
  private gapped(at: number): void {
    this.cpu.blockUntil(at);
    const open = this.chip.openAt(at) !== undefined;
    this.o.host.readEnded(open ? "read-timeout" : (this.chip.sock?.closeReason ?? "closed"));
  }

  // ---- PubSubClient::loop() ----

  /**
   * PubSubClient::loop()'s checks at `at`: the reason the connection is gone, if it is (the broker's
   * FIN is heard once the packets before it are read); else, when
   * nothing was sent or received for a keepalive period, a PINGREQ.
   */
  check(at: number): DisconnectReason | undefined {
    // connected(): a socket the broker closed with a FIN reads on until its RX buffer is empty.
    if (!this.chip.readableAt(at)) return this.chip.sock?.closeReason ?? "closed";
    // The same sums dueAt() woke for: `at - last >= keepalive` can miss by an ulp and spin.
    if (at >= this.lastIn + this.keepaliveMs || at >= this.lastOut + this.keepaliveMs) {
      if (this.pingOutstanding) {
        this.stats.keepaliveTimeouts++;
        return "keepalive";
      }
      this.stats.pings++;
      this.send(PINGREQ);
      this.lastIn = this.cpu.t;
      this.pingOutstanding = true;
    }
    return undefined;
  }

  /**
   * Reads one packet out of the RX buffer and handles it, in the loop() that began at `loopAt`;
   * `malformed` when its remaining length runs past 4 bytes: PubSubClient's readPacket() stops the
   * socket there (the caller ends the session). `reading` when only a packet's first bytes are in:
   * the loop is held until its last byte or a gap (the session's host is told `readEnded`).
   * `held`: read after such a wait, lastInActivity stamped with `loopAt`, as loop() stamps it.
   */
  readPacket(loopAt: number, held = false): "malformed" | "reading" | undefined {
    const item = this.chip.shift();
    if (item === undefined) {
      const partialAt = this.chip.sock?.partialAt;
      if (partialAt === undefined) return undefined;
      this.slow.begin(loopAt, partialAt);
      this.cpu.freeAt = Number.POSITIVE_INFINITY;
      return "reading";
    }
    if (malformedHead(item.bytes)) {
      const c = this.p.cycles;
      this.cpu.spend(c.recvOverhead + c.spiReadPerByte * item.bytes.length);
      return "malformed";
    }
    this.handle(item, held ? loopAt : undefined);
    return undefined;
  }

  /** A packet read out of the RX buffer, handled as PubSubClient's loop() handles it. */
  private handle(item: { readonly bytes: Buffer }, loopAt: number | undefined): void {
    const c = this.p.cycles;
    // PubSubClient reads every byte of a packet, those past its buffer too (the wire kept only its head).
    const len = announcedBytes(item.bytes);
    this.cpu.spend(c.recvOverhead + c.spiReadPerByte * len);
    this.chip.sock?.down.resume(this.cpu.t);
    this.stats.packetsIn++;
    this.buffer.read(item.bytes, len <= this.o.maxPacketBytes);
    if (len > this.o.maxPacketBytes) {
      // PubSubClient drains a packet over its buffer and drops it: no callback, no error, and no
      // inbound activity (readPacket() gives 0; loop() sets lastInActivity only for a length over 0).
      this.stats.oversizedDropped++;
      this.o.sink({ type: "oversized", node: this.o.node, at: this.cpu.t, bytes: len });
      return;
    }
    this.lastIn = loopAt ?? this.cpu.t;
    const bytes = item.bytes;
    // A PUBLISH (nearly every packet) is read in place: its payload decoded, no packet object made;
    // one whose topic length does not fit its packet as the sketch's guard lowers it.
    const f = this.pub;
    const got = readBoardPublish(bytes, f) ? "message" : readGuardedPublish(bytes, f, this.buffer);
    if (got !== false) {
      const { qos, messageId } = f;
      if (got === "message") this.o.host.message(f.topic, bytes.toString("utf8", f.payloadAt), qos);
      else this.refused(); // no room for a QoS 1 packet id
      if (qos === 1 && messageId !== undefined) this.send(quickPuback(messageId));
      return;
    }
    // A SUBACK or UNSUBACK is read and let go, whatever it holds (unless a parser holds a part-read packet).
    if (!this.reader.busy && isAckOfSubscription(bytes)) return;
    const pk = this.reader.read(bytes);
    if (pk === undefined) return;
    switch (pk.cmd) {
      case "publish": {
        this.o.host.message(pk.topic, pk.payload.toString(), pk.qos === 1 ? 1 : 0);
        if (pk.qos === 1 && pk.messageId !== undefined) this.send(quickPuback(pk.messageId)); // generate()'s bytes, without its debug logging per call
        break;
      }
      case "pingresp":
        this.pingOutstanding = false;
        break;
      case "pingreq": {
        const last = this.lastOut; // PubSubClient answers it, leaving lastOutActivity as it was
        this.send(PINGRESP);
        this.lastOut = last;
        break;
      }
      default:
        break;
    }
  }

  // ---- connect / disconnect ----

  /**
   * The sketch's reconnect(): EthernetClient connect (TCP handshake), then PubSubClient's CONNECT.
   * True when the handshake succeeded: the job then stays open until CONNACK or the timeout.
   */
  reconnect(): boolean {
    const cpu = this.cpu;
    this.lastAttempt = cpu.t;
    const start = cpu.t;
    const hs = this.o.link.handshake(cpu.t);
    cpu.blockUntil(hs.at);
    if (!hs.ok) {
      this.stats.connectFailures++;
      this.o.sink({ type: "connect-failed", node: this.o.node, at: cpu.t, reason: "handshake" });
      return false;
    }
    // The real connection opens when the successful SYN reaches the broker's host.
    this.chip.open(hs.at - this.p.network.oneWayLatencyMs, this.socketEvents);
    const { prefix, node, username, password } = this.o;
    const connect = pubsubConnect(prefix, node, this.p.mqtt.keepaliveS, username, password);
    if (pubsubConnectBytes(connect) > this.o.maxPacketBytes) {
      // CHECK_STRING_LENGTH: connect() stops the socket and returns false, nothing sent.
      this.stats.connectFailures++;
      this.o.sink({ type: "connect-failed", node: this.o.node, at: cpu.t, reason: "connect-too-long" });
      this.chip.drop(true, cpu.t);
      return false;
    }
    this.send(generate(connect));
    this.mqtt = "connecting";
    this.connackBegun = false;
    this.connectingSince = start;
    cpu.freeAt = Number.POSITIVE_INFINITY;
    const deadline = cpu.t + this.p.mqtt.socketTimeoutS * 1000;
    this.connackTimer = this.o.sched.at(deadline, () => this.connectTimedOut(deadline));
    return true;
  }

  private connackArrived(at: number): void {
    const cpu = this.cpu;
    cpu.blockUntil(at);
    this.connackTimer?.cancel();
    this.mqtt = "disconnected";
    const item = this.chip.shift();
    if (item === undefined) return;
    const c = this.p.cycles;
    const len = announcedBytes(item.bytes);
    cpu.spend(c.recvOverhead + c.spiReadPerByte * len);
    // connect() takes whatever packet comes first, by its length alone (src/PubSubClient.cpp
    // connect()): readPacket() gives 0 for a packet over the buffer and for a malformed length, and
    // a packet of 4 bytes whose 4th is 0 is an accepted CONNACK whatever its type (a PUBACK
    // 40 02 00 00 too). 4 bytes with another 4th byte are a refusal, state() that byte; any other
    // length stops the socket with state() left as it was (no code of its own: `bad-connack`).
    const read = len > this.o.maxPacketBytes || malformedHead(item.bytes) ? 0 : len;
    if (read !== 4 || item.bytes[3] !== 0) {
      this.stats.connectFailures++;
      const reason = read === 4 ? "refused" : "bad-connack";
      this.o.sink({ type: "connect-failed", node: this.o.node, at: cpu.t, reason });
      this.chip.drop(true, cpu.t);
      this.o.host.endJob();
      return;
    }
    this.mqtt = "connected";
    this.answered = this.chip.head !== undefined; // a packet right behind the CONNACK
    this.stats.connects++;
    if (this.everConnected) this.stats.reconnects++;
    this.everConnected = true;
    // lastAttempt kept (the sketch's keepSession() counts from its last attempt, success or not): a
    // session lost within the period (taken over, closed at once) is tried again at its end.
    this.lastIn = cpu.t;
    this.lastOut = cpu.t;
    this.pingOutstanding = false;
    this.o.sink({ type: "connected", node: this.o.node, at: cpu.t, attemptAt: this.connectingSince });
    this.o.host.connected();
    this.o.host.endJob();
  }

  /** Nothing listens on the broker's port: a reset to the SYN, connect() fails at once, retried later. */
  private connectRefused(at: number): void {
    if (this.mqtt !== "connecting") return;
    this.connackTimer?.cancel();
    this.connectFailed(at, "handshake");
  }

  private connectTimedOut(at: number): void {
    if (this.mqtt !== "connecting") return;
    const s = this.chip.sock; // closed by the broker at once: PubSubClient waits all the same
    const atOnce = s?.closeReason === "closed" && (s.closedAt ?? at) - this.connectingSince < 1000;
    this.connectFailed(at, this.connackBegun ? "bad-connack" : "connack-timeout", atOnce);
  }

  private connectFailed(at: number, reason: ConnectFailure, closedAtOnce = false): void {
    this.cpu.blockUntil(at);
    this.mqtt = "disconnected";
    this.stats.connectFailures++;
    const once = closedAtOnce ? { closedAtOnce: true as const } : {};
    this.o.sink({ type: "connect-failed", node: this.o.node, at, reason, ...once });
    this.chip.drop(true, this.cpu.t);
    this.o.host.endJob();
  }

  /** The connection is gone (noticed by the loop): the socket is released and the loss reported. */
  lost(reason: DisconnectReason): void {
    this.slow.end();
    const up = this.mqtt === "connected";
    const cut = up && reason === "closed" && !this.answered; // metrics.ts, `unanswered`
    if (up) this.stats.disconnects++;
    if (up && reason === "closed") this.stats.closedByBroker++;
    if (up && (reason === "malformed" || reason === "read-timeout")) this.stats.closedByNode++;
    if (up && reason === "socket-timeout") this.stats.tcpTimeouts++;
    if (up && reason === "power-off") this.stats.powerCuts++;
    this.mqtt = "disconnected";
    this.chip.drop(true, this.cpu.t);
    const node = this.o.node;
    this.o.sink({ type: "disconnected", node, at: this.cpu.t, reason, ...(cut && { unanswered: true }) });
  }
}
