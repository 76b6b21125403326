/**
 * Commands while the broker is away, on the service's MQTT.js connection (twins/broker-link.ts).
 * MQTT.js holds a QoS 1 publish made while it is offline, and one in flight when the connection
 * drops, and sends it after the next reconnect: a set would hang its caller until then and reach the
 * node minutes late, behind the operator's back. So a command asked for while the connection is not
 * up (not reached yet, lost and reconnecting, the broker silent) is refused at once with a
 * BrokerUnavailableError naming the broker and since when; one in flight when the connection drops
 * or the broker falls silent, or not acknowledged within ACK_TIMEOUT_MS, is settled with one too and
 * taken out of MQTT.js's store, so no reconnect sends it again. What the service re-sends by itself
 * (a pairing, a pending set) it re-sends when the node registers (twins/reconcile.ts): a pair or
 * unpair given while the broker is away is stored and left to those re-sends (`sendOrHold`).
 */
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { Message, NodeId } from "../protocol/index.js";
import { type BrokerAwayHow, BrokerUnavailableError, type PairingOutcome } from "./api.js";
import { after, type Scheduler, type Timer } from "./clock.js";

/** How long a command waits for the broker's PUBACK before it is given up. */
export const ACK_TIMEOUT_MS = 10_000;

/** The broker away: how, since when (the service's scheduler), and why the last attempt to reach it failed (before it was first reached, or reconnecting). */
export interface BrokerAway {
  readonly how: BrokerAwayHow;
  readonly since: number;
  readonly cause?: string;
}

/** The command `msg` is, as a sentence names it. */
export function commandName(msg: Message): string {
  switch (msg.kind) {
    case "state":
      return "the set";
    case "query":
      return "the query";
    case "config":
      return "the pairing (the node's retained config)";
    case "subscribe":
    case "unsubscribe":
      return "the pairing command";
    default:
      return `the ${msg.kind}`;
  }
}

/** `the broker at URL is not reachable (…)`: why nothing can be sent to it now. */
export function awayReason(url: string, away: BrokerAway, now: number): string {
  const s = Math.max(0, Math.round((now - away.since) / 1000));
  const why =
    away.how === "unreached"
      ? `not reached in the ${s} s since the service started${away.cause === undefined ? "" : `: ${away.cause}`}`
      : away.how === "silent"
        ? `silent for ${s} s with the connection up`
        : `the connection was lost ${s} s ago; reconnecting${away.cause === undefined ? "" : `: ${away.cause}`}`;
  return `the broker at ${url} is not reachable (${why})`;
}

/** The error for `msg` refused while the broker is away: nothing was sent, and nothing will be. */
export function refusal(url: string, away: BrokerAway, now: number, what: string): BrokerUnavailableError {
  const reason = awayReason(url, away, now);
  return new BrokerUnavailableError(`${reason}: ${what} was not sent`, url, away.how, false, reason);
}

/** Why a command in flight was given up, as the start of its error's sentence. */
export type GivenUp = "dropped" | "silent" | "timeout" | "failed" | "closed";

interface Pending {
  readonly name: string;
  /** When it was published, on the scheduler: it is given up ACK_TIMEOUT_MS after. */
  readonly at: number;
  /** The callback given to MQTT.js: how its entry in `client.outgoing` is found. */
  readonly done: (err?: Error) => void;
  readonly reject: (err: BrokerUnavailableError) => void;
}

/**
 * The service's publishes awaiting their PUBACK on one MQTT.js client, oldest first, with one timer
 * for the oldest's deadline rather than one per publish (a reconcile after a reconnect may send
 * thousands at once).
 */
export class InFlight {
  private readonly pending = new Set<Pending>();
  private timer: Timer | undefined;

  constructor(
    private readonly url: string,
    private readonly scheduler: Scheduler,
    private readonly ackMs = ACK_TIMEOUT_MS,
  ) {}

  /** Publishes at QoS 1; resolves on the PUBACK, rejects when given up (see the header). */
  publish(client: MqttClient, topic: string, payload: string | Buffer, retain: boolean, what: string) {
    return new Promise<void>((resolve, reject) => {
      const p: Pending = {
        name: what,
        at: this.scheduler.now(),
        done: (err) => {
          if (!this.settled(p)) return;
          if (err) reject(this.givenUp(p.name, "failed", err.message));
          else resolve();
        },
        reject,
      };
      this.pending.add(p);
      this.timer ??= after(this.scheduler, this.ackMs, () => this.timedOut(client));
      client.publish(topic, payload, { qos: 1, retain }, p.done);
    });
  }

  /**
   * The connection dropped, the broker fell silent or the service closes: every publish in flight is
   * given up. Whether there was one.
   */
  giveUpAll(client: MqttClient, why: GivenUp): boolean {
    if (this.pending.size === 0) return false;
    const ids = outgoingIds(client);
    for (const p of [...this.pending]) this.giveUp(client, p, why, ids);
    return true;
  }

  /** The oldest's deadline: those past theirs are given up, and the timer set for the next oldest. */
  private timedOut(client: MqttClient): void {
    this.timer = undefined;
    const now = this.scheduler.now();
    const ids = outgoingIds(client);
    for (const p of [...this.pending]) {
      if (now - p.at < this.ackMs) {
        this.timer = after(this.scheduler, p.at + this.ackMs - now, () => this.timedOut(client));
        return;
      }
      this.giveUp(client, p, "timeout", ids);
    }
  }

  /** Takes `p` out of the pending ones; false when it already was. No timer is left for none. */
  private settled(p: Pending): boolean {
    if (!this.pending.delete(p)) return false;
    if (this.pending.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
    return true;
  }

  private giveUp(client: MqttClient, p: Pending, why: GivenUp, ids: Map<unknown, number>): void {
    if (!this.settled(p)) return;
    // Out of MQTT.js's store (its callback is told `Message removed`, no longer heard): not re-sent.
    const id = ids.get(p.done);
    if (id !== undefined) client.removeOutgoingMessage(id);
    p.reject(this.givenUp(p.name, why));
  }

  private givenUp(name: string, why: GivenUp, detail?: string): BrokerUnavailableError {
    const at = `the broker at ${this.url}`;
    const start = {
      dropped: `the connection to ${at} dropped before it acknowledged ${name}`,
      silent: `${at} fell silent before it acknowledged ${name}`,
      timeout: `${at} did not acknowledge ${name} within ${this.ackMs / 1000} s`,
      failed: `the connection to ${at} failed before it acknowledged ${name} (${detail ?? "no reason given"})`,
      closed: `the twins service closed before ${at} acknowledged ${name}`,
    }[why];
    return new BrokerUnavailableError(
      `${start}: it may or may not have reached the broker, and the connection does not send it again`,
      this.url,
      why === "silent" ? "silent" : why === "dropped" || why === "failed" ? "lost" : "unacknowledged",
      true,
      start,
    );
  }
}

/**
 * Ends `client`'s connection with a TCP reset, which discards what its socket has not delivered. A
 * path cut with the connection up (a dead switch, a Wi-Fi drop) keeps a command given up at the
 * silence in the socket, and a close (what MQTT.js does) still sends it once the path heals: a set
 * refused as not acknowledged reached its node 10 s later. Over TLS or WebSocket the stream has no TCP
 * handle of its own to reset, and is closed as MQTT.js would.
 */
export function resetConnection(client: MqttClient): void {
  const stream = client.stream as unknown as { resetAndDestroy?: () => unknown; destroy: () => unknown };
  try {
    if (stream.resetAndDestroy !== undefined) {
      stream.resetAndDestroy();
      return;
    }
  } catch {
    // Not a TCP handle (a TLS socket): closed below.
  }
  stream.destroy();
}

/** The packet id of each publish MQTT.js holds (sent, or stored for a reconnect), by its callback. */
function outgoingIds(client: MqttClient): Map<unknown, number> {
  const ids = new Map<unknown, number>();
  for (const [id, o] of Object.entries(client.outgoing)) ids.set(o.cb, Number(id));
  return ids;
}

/** `<why>: <pairing> is stored, and sent once the broker is back and <node> registers`. */
export function storedUntilBack(why: string, pairing: string, node: string): string {
  return `${why}: ${pairing} is stored, and sent once the broker is back and ${node} registers`;
}

/**
 * Sends a changed desire (`send`); with the broker away it stays stored and pending, unsent: once the
 * broker is back the service's query makes every live node register, and a node that registers with
 * a pending pairing is sent its commands (twins/reconcile.ts), as is one that returns later.
 */
export async function sendOrHold(
  node: NodeId,
  send: () => Promise<void>,
  logger: Logger,
): Promise<PairingOutcome> {
  try {
    await send();
    return { sent: true };
  } catch (err) {
    if (!(err instanceof BrokerUnavailableError)) throw err;
    logger.warn(
      { node, broker: err.broker, away: err.away },
      `twins: ${storedUntilBack(err.reason, `the pairing of ${node}`, node)}`,
    );
    return { sent: false, why: err.reason };
  }
}
