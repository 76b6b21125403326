/**
 * A client's view of its broker, for every tool that holds a connection (the twins service's link,
 * a run's probe, a shard's watch client): the connection going and coming back, and, with `silence`,
 * a broker that has sent nothing for `afterMs` while the connection stays up (a frozen process, a
 * hung host, a cut path whose sockets stay open). The keepalive would notice that only when a ping
 * goes unanswered, 15 to 22.5 s in, and a shorter freeze never. A client that hears from its broker
 * all the time (its own probes: twins/broker-probe.ts) makes the silence mean something.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import type { MqttClient } from "mqtt";
import { every, type Scheduler, type Timer } from "./clock.js";

/**
 * A connected broker that has sent nothing for this long is taken as lost: a probe comes back every
 * 500 ms, so this is ten of them missed.
 */
export const SILENCE_MS = 5000;

/**
 * A reconnect answered (CONNACK) within this of its TCP connection (of its start, on a stream that
 * tells none) found the broker serving then: the return is dated from the connection, not from a
 * CONNACK that came behind a crowd of clients reconnecting (a restarted broker answered within
 * 0.1 s beside 50 nodes: docs/metrics.md, "How long an outage lasted"). One answered later began while the broker's port took connections and
 * the broker did not answer them — a frozen process (`kill -STOP`), whose kernel queues them — and
 * is dated from the answer: a 40 s freeze ended at the start of an attempt the frozen broker had
 * held for 8 s, and was told as 32.3 s.
 */
export const ANSWERED_AT_ONCE_MS = 1000;

/** How often the silence is checked; a check itself this late means this process stalled, not the broker. */
const SILENCE_CHECK_MS = 500;

/** Heard from (`up`), connected but silent for SILENCE_MS (`silent`), or the connection down (`lost`). */
export type BrokerState = "up" | "silent" | "lost";

/** How the broker was lost: silent with the connection up, or the connection down. */
export type BrokerLoss = Exclude<BrokerState, "up">;

export interface BrokerWatchEvents {
  /**
   * Once per outage each way, for outage spans (fleet/broker-outages.ts): lost (false) with when
   * it was lost — when the broker was last heard from (any packet) if it fell silent or its
   * keepalive ran out, the moment the connection dropped if it closed while the broker answered —
   * and back (true) with when: the TCP connection of the reconnect that got through was made (the
   * broker listened and the path was open), if the broker answered it within ANSWERED_AT_ONCE_MS
   * of then (its CONNACK may come a little later, behind a crowd reconnecting), else its answer (a
   * frozen broker's kernel took the attempt's connection long before), or its packet heard again.
   */
  broker: [connected: boolean, at?: number];
  /** Every change of state (a silence that ends with the connection dropping is two), with the last heard. */
  state: [state: BrokerState, was: BrokerState, lastHeardAt: number];
}

export interface BrokerWatch extends EventEmitter<BrokerWatchEvents> {
  readonly state: BrokerState;
  /** When the broker was last heard from (any packet), on the watch's clock. */
  readonly lastHeardAt: number;
  /** Tells nothing more (a client being closed ends its connection as no news) and stops the checks. */
  stop(): void;
}

export interface SilenceOptions {
  readonly sched: Scheduler;
  readonly afterMs: number;
  /** The check's timer is added here too, for a caller that cancels its timers together. */
  readonly timers?: Timer[];
  /** Whether silence means anything yet (a probe whose echo has come back once); always if absent. */
  readonly armed?: () => boolean;
}

class Watch extends EventEmitter<BrokerWatchEvents> implements BrokerWatch {
  state: BrokerState = "up";
  private stopped = false;
  private check: Timer | undefined;

  constructor(public lastHeardAt: number) {
    super();
  }

  /**
   * To `state` at `at`: a loss dated from it (the broker's last packet unless told otherwise), a
   * return too (now unless told otherwise).
   */
  to(state: BrokerState, at?: number): void {
    const was = this.state;
    this.state = state;
    if (this.stopped) return;
    const from = state === "up" ? this.lastHeardAt : (at ?? this.lastHeardAt);
    this.emit("state", state, was, from);
    if (was === "up") this.emit("broker", false, from);
    else if (state === "up") this.emit("broker", true, at);
  }

  checkEvery(timer: Timer): void {
    this.check = timer;
  }

  stop(): void {
    this.stopped = true;
    this.check?.cancel();
  }
}

/** A TCP (or TLS) socket still making its connection: it tells `connect` once made. */
function isConnectingSocket(s: unknown): s is EventEmitter {
  return s instanceof EventEmitter && (s as Partial<{ connecting: boolean }>).connecting === true;
}

/** Whether `client`'s connection was ended from the other side: its peer closed or reset it. */
function endedByPeer(client: MqttClient): boolean {
  const s = client.stream as Partial<Pick<Duplex, "readableEnded" | "errored">> | undefined;
  return s?.readableEnded === true || (s?.errored !== undefined && s.errored !== null);
}

/**
 * Watches `client`'s connection: lost once per outage, and back once. With `silence`, a broker
 * silent for `afterMs` while the connection stays up is lost too, and back with its next packet;
 * the connection dropping meanwhile is the same outage. The connection's errors go to `error`
 * while it is up; while it is down each failed reconnect's error is no news.
 */
export function watchConnection(
  client: MqttClient,
  now: () => number,
  error: (e: Error) => void,
  silence?: SilenceOptions,
): BrokerWatch {
  const w = new Watch(now());
  client.on("packetreceive", () => {
    w.lastHeardAt = now();
    if (w.state === "silent") w.to("up");
  });
  client.on("error", (e) => {
    if (w.state !== "lost") error(e);
  });
  client.on("offline", () => {
    // A connection the broker's side ended (closed or reset: a killed broker, a restart) is lost
    // now: dated from the last packet, a kill -9 was told up to a probe period (on a connection that
    // hears little, seconds) before it happened. One this client ended itself (its keepalive ran
    // out) lost the broker when it last heard from it.
    if (w.state === "up") w.to("lost", endedByPeer(client) ? now() : w.lastHeardAt);
    else if (w.state !== "lost") w.to("lost");
  });
  // Back from when the reconnect that got through made its TCP connection: the broker listened and
  // the path was open then; its CONNACK may come later, behind a crowd reconnecting. Not from when
  // the attempt began: over a cut path its SYN waits for the kernel's next retransmission (1, 3, 7 s
  // …), and the return was dated up to that long before the path healed (a 40 s partition told as
  // 37.2 s). A stream that tells no TCP connection (a WebSocket) is dated from its attempt.
  let attemptAt: number | undefined;
  let handshakeAt: number | undefined;
  client.on("reconnect", () => {
    attemptAt = now();
    handshakeAt = undefined;
    // MQTT.js opens the attempt's stream right after it emits `reconnect`.
    queueMicrotask(() => {
      const stream = client.stream as unknown;
      if (!isConnectingSocket(stream)) return;
      stream.once("connect", () => {
        if (client.stream === stream) handshakeAt = now();
      });
    });
  });
  client.on("connect", () => {
    const from = handshakeAt ?? attemptAt;
    const atOnce = from !== undefined && now() - from <= ANSWERED_AT_ONCE_MS;
    if (w.state === "lost") w.to("up", atOnce ? from : undefined);
    attemptAt = undefined;
    handshakeAt = undefined;
  });
  if (silence !== undefined) {
    const { sched } = silence;
    let checkedAt = sched.now();
    const timer = every(sched, SILENCE_CHECK_MS, () => {
      const t = sched.now();
      // A check that comes late found this process stalled: what it missed may be waiting unread.
      const stalled = t - checkedAt > 2 * SILENCE_CHECK_MS;
      checkedAt = t;
      if (w.state !== "up" || stalled || t - w.lastHeardAt < silence.afterMs) return;
      if (silence.armed !== undefined && !silence.armed()) return;
      w.to("silent");
    });
    w.checkEvery(timer);
    silence.timers?.push(timer);
  }
  return w;
}
