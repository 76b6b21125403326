/**
 * The transport-level packet-size limit. Aedes 1.x has no limit of its own: mqtt-packet buffers a
 * packet until its declared remaining length has arrived, so one socket announcing a 256 MB packet —
 * before or after CONNECT — could make the broker hold 256 MB. We read every MQTT fixed header as the
 * bytes pass, before aedes parses anything, and cut the connection as soon as a frame declares more
 * than the limit or its remaining-length field is malformed. The same wrapper guards the outbound side
 * (broker/outbound.ts).
 */

import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { assertNever } from "../protocol/index.js";
import { ConformanceError, connackFor, type InboundGate } from "./conformance.js";
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_MAX_QUEUED_BYTES } from "./options.js";
import { OutboundGuard, type OutboundLimits, systemClock } from "./outbound.js";
import { PublishPacer, type PublishPacing } from "./publish-budget.js";

const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = {
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
  drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
};

/** Why a connection was cut: the frame is too large, or its length field breaks MQTT §2.2.3. */
export type FrameViolation =
  | { readonly kind: "too-large"; readonly declaredBytes: number; readonly limit: number }
  | { readonly kind: "malformed-length" };

export class FrameLimitError extends Error {
  override readonly name = "FrameLimitError";
  constructor(
    readonly violation: FrameViolation,
    /** Bytes this connection had delivered when it was cut: shows the broker stopped reading early. */
    readonly bytesSeen: number,
  ) {
    super(
      violation.kind === "too-large"
        ? `MQTT packet of ${violation.declaredBytes} bytes exceeds the ${violation.limit}-byte limit`
        : "MQTT remaining length is longer than 4 bytes (malformed packet)",
    );
  }
}

type ScanState = "type" | "length" | "body";

/**
 * PUBLISH packets and bytes through the broker's connections, counted as their fixed headers pass
 * (out: written to clients; in: read from them, before aedes parses them). `inByQos` and `outByQos`
 * are indexed by the header's QoS bits (0–2; 3 is a malformed packet, refused).
 */
export interface TrafficCounters {
  publishesOut: number;
  readonly inByQos: number[];
  readonly outByQos: number[];
  bytesIn: number;
  bytesOut: number;
}

const PUBLISH = 3;

/**
 * Follows MQTT frame boundaries across arbitrary chunking with O(1) state, never buffering: a fixed
 * header byte, 1–4 remaining-length bytes (7 bits each, low first), then the body, which is skipped.
 */
export class FrameScanner {
  #state: ScanState = "type";
  #header = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #bodyLeft = 0;

  /**
   * `onPacket`: told each packet's type (the fixed header's high nibble) and its whole first byte
   * (the flags: a PUBLISH's QoS) as its header passes, once its length is read and within the limit.
   */
  constructor(
    readonly maxPacketBytes: number,
    private readonly onPacket?: (type: number, header: number) => void,
  ) {}

  /** Scans one chunk; returns the first violation in it, or undefined if every byte is acceptable. */
  scan(chunk: Uint8Array): FrameViolation | undefined {
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case "type":
          // The packet type is aedes's to judge; we only need frame boundaries (and a count, if asked,
          // once the length is known to be within the limit: a packet cut at its header is not counted).
          this.#header = chunk[i]!;
          i++;
          this.#state = "length";
          this.#length = 0;
          this.#multiplier = 1;
          this.#lengthBytes = 0;
          break;
        case "length": {
          const b = chunk[i++]!;
          this.#length += (b & 0x7f) * this.#multiplier;
          this.#lengthBytes++;
          if (b & 0x80) {
            // [MQTT-2.2.3] at most 4 length bytes; a fifth would be a continuation that never ends.
            if (this.#lengthBytes === 4) return { kind: "malformed-length" };
            this.#multiplier *= 128;
            break;
          }
          const total = 1 + this.#lengthBytes + this.#length;
          if (total > this.maxPacketBytes) {
            return { kind: "too-large", declaredBytes: total, limit: this.maxPacketBytes };
          }
          this.onPacket?.(this.#header >> 4, this.#header);
          this.#bodyLeft = this.#length;
          this.#state = this.#bodyLeft === 0 ? "type" : "body";
          break;
        }
        case "body": {
          const take = Math.min(this.#bodyLeft, chunk.length - i);
          i += take;
          this.#bodyLeft -= take;
          if (this.#bodyLeft === 0) this.#state = "type";
          break;
        }
        default:
          assertNever(this.#state);
      }
    }
    return undefined;
  }
}

/**
 * A duplex to hand to `aedes.handle()` in place of the raw stream: reads pass through a
 * FrameScanner (with backpressure to the socket), then, if given, an InboundGate (broker/conformance.ts)
 * that hands on only whole, valid packets; writes go through an OutboundGuard
 * (broker/outbound.ts), which takes them at once so that a slow reader never holds up aedes, and
 * cuts this connection alone when too much waits for it.
 */
export class FrameLimitedStream extends Duplex {
  readonly #inner: Duplex;
  readonly #scanner: FrameScanner;
  readonly #outbound: OutboundGuard;
  readonly #gate: InboundGate | undefined;
  readonly #sent: FrameScanner | undefined;
  readonly #traffic: TrafficCounters | undefined;
  readonly #remoteAddress: string | undefined;
  readonly #pacer: PublishPacer | undefined;
  #bytesSeen = 0;
  #refused = false;

  constructor(
    inner: Duplex,
    maxPacketBytes: number,
    outbound: OutboundLimits = DEFAULT_OUTBOUND_LIMITS,
    gate?: InboundGate,
    traffic?: TrafficCounters,
    /** The client's address, when `inner` does not tell it (a WebSocket's stream). */
    remoteAddress?: string,
    /** The per-client publish budget (broker/publish-budget.ts); applies behind a `gate` only. */
    pacing?: PublishPacing,
  ) {
    // Paced, aedes is handed one read's worth at a time (broker/publish-budget.ts): nothing more is
    // read ahead into this stream's buffer than the one hand-on waiting for aedes's next read.
    super({
      allowHalfOpen: true,
      ...(pacing !== undefined && gate !== undefined ? { readableHighWaterMark: 1 } : {}),
    });
    this.#inner = inner;
    this.#remoteAddress = remoteAddress;
    this.#gate = gate;
    this.#traffic = traffic;
    // aedes writes a packet in pieces (header, then body), so the count follows frame boundaries.
    this.#sent =
      traffic === undefined
        ? undefined
        : new FrameScanner(Number.POSITIVE_INFINITY, (type, header) => {
            if (type !== PUBLISH) return;
            traffic.publishesOut++;
            traffic.outByQos[(header >> 1) & 3]!++;
          });
    this.#scanner = new FrameScanner(
      maxPacketBytes,
      traffic === undefined
        ? undefined
        : (type, header) => {
            if (type === PUBLISH) traffic.inByQos[(header >> 1) & 3]!++;
          },
    );
    this.#outbound = new OutboundGuard(inner, outbound, (err) => this.destroy(err));
    this.#pacer =
      pacing === undefined || gate === undefined
        ? undefined
        : new PublishPacer(pacing.limits, pacing.clock ?? systemClock, {
            push: (packets) => void this.push(packets),
            end: () => this.push(null),
            reading: (on) => {
              if (this.#refused) return;
              if (on) this.#inner.resume();
              else this.#inner.pause();
            },
            hold: (on) => {
              if (on) this.#inner.pause();
              pacing.hold?.(this, on);
            },
            held: (n) => pacing.held?.(this, n),
          });
    inner.on("data", (chunk: Buffer) => this.#onData(chunk));
    inner.on("end", () => {
      if (this.#refused) return;
      if (this.#pacer !== undefined) this.#pacer.end();
      else this.push(null);
    });
    inner.on("error", (err: Error) => this.destroy(err));
    inner.on("close", () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Bytes aedes has written that the socket has not sent yet. */
  get queuedBytes(): number {
    return this.#outbound.queuedBytes;
  }

  /** The client's address, for logs: the one given, else the underlying socket's. */
  get remoteAddress(): string | undefined {
    return this.#remoteAddress ?? (this.#inner as Partial<Socket>).remoteAddress;
  }

  #onData(chunk: Buffer): void {
    // After a refusal the rest is read and dropped: closing with bytes unread would reset the
    // connection and could lose the CONNACK on its way.
    if (this.#refused) return;
    this.#bytesSeen += chunk.length;
    if (this.#traffic !== undefined) this.#traffic.bytesIn += chunk.length;
    const violation = this.#scanner.scan(chunk);
    if (violation !== undefined) {
      this.#inner.pause();
      this.destroy(new FrameLimitError(violation, this.#bytesSeen));
      return;
    }
    if (this.#gate === undefined) {
      if (!this.push(chunk)) this.#inner.pause();
      return;
    }
    const { pass, violation: breach } = this.#gate.feed(chunk);
    if (this.#pacer !== undefined) {
      this.#pacer.feed(pass);
      if (breach !== undefined) {
        // What came before the breach is aedes's, as without a budget; then the refusal.
        this.#pacer.flush();
        this.#refuse(new ConformanceError(breach));
      }
      return;
    }
    const more = pass.length === 0 || this.push(pass);
    if (breach !== undefined) {
      this.#refuse(new ConformanceError(breach));
      return;
    }
    if (!more) this.#inner.pause();
  }

  /** Answers the CONNACK the breach calls for, if any, then closes. */
  #refuse(err: ConformanceError): void {
    this.#refused = true;
    this.#inner.resume();
    const connack = connackFor(err.violation);
    if (connack === undefined) {
      this.destroy(err);
      return;
    }
    this.#outbound.write(connack);
    this.#inner.end(() => this.destroy(err));
  }

  override _read(): void {
    if (this.#pacer !== undefined) this.#pacer.read();
    else this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sent?.scan(chunk);
    if (this.#traffic !== undefined) this.#traffic.bytesOut += chunk.length;
    this.#outbound.write(chunk);
    callback();
  }

  /**
   * What was written while corked goes to the socket as one write. mqtt-packet corks the stream
   * around each packet it writes in pieces (fixed header, length, topic, id, payload); without this,
   * each piece was its own socket write and, with Nagle off, its own TCP segment: up to six
   * segments per PUBLISH, each lost and retransmitted on its own on a lossy link.
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    const parts = chunks.map((c) => c.chunk);
    for (const part of parts) this.#sent?.scan(part);
    const whole = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    if (this.#traffic !== undefined) this.#traffic.bytesOut += whole.length;
    this.#outbound.write(whole);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#pacer?.close();
    this.#outbound.dispose();
    this.#inner.destroy();
    callback(error);
  }
}
