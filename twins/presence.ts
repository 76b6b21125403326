/**
 * The presence of control servers on the broker (protocol.md §6): a twins service that sends
 * commands holds a retained `P1 <since>` on `<p>/control/<client id>`, with an empty retained will
 * there, and clears it when it closes. `findTwinsServices` reads the live ones, so a tool can tell
 * whether a fleet already has a controller before it starts one of its own.
 */
import mqtt from "mqtt";
import { type Prefix, Prefix as toPrefix } from "../protocol/index.js";
import { after, type Scheduler, type Timer, wallScheduler } from "./clock.js";
import { closedAtOnceError, onClosedAtOnce } from "./closed-at-once.js";
import { type ConnectPhase, followConnectPhase } from "./connect-phase.js";
import {
  type BrokerConnectError,
  type BrokerTls,
  bracketedWsUrl,
  connectError,
  connectTimeoutError,
  loginOptions,
  splitBrokerUrl,
} from "./connection.js";

export const PRESENCE_TAG = "P1";

/** How long a clean close waits for the broker to take the presence clear and the DISCONNECT. */
export const CLOSE_GRACE_MS = 3000;

/** The node topics a service subscribes to on connecting, in this order (at QoS 0 over a broker; QoS 1 on a virtual run's in-memory wire). */
export const SERVICE_TOPIC_KINDS = ["config", "status", "report", "register"] as const;

/** Client ids that can stand as one topic level (no `/`, `+`, `#`). */
export const CLIENT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function controlTopic(prefix: Prefix, clientId: string): string {
  return `${prefix}/control/${clientId}`;
}

export function encodePresence(since: number): string {
  return `${PRESENCE_TAG} ${Math.floor(since)}`;
}

/** `{ since }` for a presence payload (`since` absent for a bare `P1`), undefined for anything else. */
export function decodePresence(payload: string): { since?: number } | undefined {
  const m = /^P1(?: (0|[1-9][0-9]{0,15}))?$/.exec(payload);
  if (!m) return undefined;
  return m[1] === undefined ? {} : { since: Number(m[1]) };
}

export interface TwinsServiceInfo {
  readonly clientId: string;
  /** When it started, in milliseconds since the Unix epoch. */
  readonly since?: number;
}

export interface FindTwinsOptions {
  /** How long to wait for the broker at most (connect and retained messages). Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: BrokerTls;
  /** The clock `timeoutMs` is counted on. Default `wallScheduler`. */
  readonly scheduler?: Scheduler;
  /** Ends the look at once, rejecting with the signal's reason (a run stopped while it starts). */
  readonly signal?: AbortSignal;
}

/**
 * How long the look goes on after its marker came back, and after each presence that came later: a
 * broker may send a subscription's retained messages after what was published once it acknowledged
 * it (Aedes sends them one by one after the SUBACK, and the marker overtook the last of them).
 */
export const PRESENCES_SETTLE_MS = 250;

/**
 * A look whose marker had not come back when its time was up: the broker (busy, or slow to send a
 * subscription's retained messages) may still hold presences the look has not seen, so it cannot
 * tell "none" from "not yet". Before, such a look returned what it had: on a broker busy with a
 * 5,000-node fleet, `sim --broker` found no service within its 1 s and started a second controller
 * beside the running one.
 */
export class PresenceLookUnfinished extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
    /**
     * The look's connection never got to the broker (its name not resolved, or nothing answered at
     * its address: a host down, a firewall dropping the packets): a broker unreached, not a busy one.
     */
    readonly unreached?: BrokerConnectError,
  ) {
    super(
      unreached === undefined
        ? `the broker at ${url} did not answer the look for twins services within ${(timeoutMs / 1000).toFixed(1)} s (its marker never came back): whether one is on it is unknown`
        : `${unreached.message}: whether a twins service is on it is unknown`,
    );
    this.name = "PresenceLookUnfinished";
  }
}

/** A look's connection that had not reached the broker when its time was up, told as such. */
function unreachedBy(url: string, timeoutMs: number, phase: ConnectPhase | undefined) {
  return phase === undefined || phase.at === "connected"
    ? undefined
    : connectTimeoutError(url, timeoutMs, phase);
}

/**
 * The twins services (or other control servers) live on the fleet `prefix` at `url`, sorted by
 * client id. Reads the retained presences until a marker published after the SUBACK has come back
 * and no presence has come for PRESENCES_SETTLE_MS; `timeoutMs` bounds the whole look. (The marker
 * alone ended it: with 5 services on the embedded broker, a look found 2 of them.) Rejects with
 * PresenceLookUnfinished when the marker has not come back by `timeoutMs`.
 */
export async function findTwinsServices(
  url: string,
  prefix = "tf",
  opts: FindTwinsOptions = {},
): Promise<TwinsServiceInfo[]> {
  const p = toPrefix(prefix);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const target = splitBrokerUrl(url);
  const password = opts.password ?? target.password;
  const client = mqtt.connect(target.url, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    // Past the look's own bound, so that a CONNACK not come in time is an unfinished look too.
    connectTimeout: timeoutMs + 1000,
    ...loginOptions({ username: opts.username ?? target.username, password, tls: opts.tls }),
    transformWsUrl: bracketedWsUrl,
  });
  // How far the connection got, for a look whose time is up before the broker answered.
  const phase = followConnectPhase(client, target.url);
  const found = new Map<string, TwinsServiceInfo>();
  const marker = `${p}/control-probe/${Math.floor(Math.random() * 2 ** 48).toString(16)}`;
  const controlPrefix = `${p}/control/`;
  const scheduler = opts.scheduler ?? wallScheduler;
  let timer: Timer | undefined;
  let settle: Timer | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let marked = false;
      timer = after(scheduler, timeoutMs, () =>
        marked
          ? resolve()
          : reject(
              new PresenceLookUnfinished(target.url, timeoutMs, unreachedBy(target.url, timeoutMs, phase())),
            ),
      );
      const settleAgain = () => {
        settle?.cancel();
        if (marked) settle = after(scheduler, PRESENCES_SETTLE_MS, () => resolve());
      };
      client.once("error", (err) => reject(connectError(err, target.url, password)));
      // Closed at once (a broker out of files) is no broker slow to answer: told as what it is.
      onClosedAtOnce(client, () => reject(closedAtOnceError(target.url)));
      const stop = opts.signal;
      if (stop?.aborted) reject(stop.reason);
      stop?.addEventListener("abort", () => reject(stop.reason), { once: true });
      client.on("message", (topic, payload, packet) => {
        if (topic === marker) {
          marked = true;
          return settleAgain();
        }
        if (!packet.retain || !topic.startsWith(controlPrefix)) return;
        const clientId = topic.slice(controlPrefix.length);
        const presence = decodePresence(payload.toString("latin1"));
        if (presence) found.set(clientId, { clientId, ...presence });
        settleAgain();
      });
      client.once("connect", () => {
        client
          .subscribeAsync([`${controlPrefix}+`, marker], { qos: 1 })
          .then(() => client.publishAsync(marker, "end", { qos: 1 }))
          .catch(reject);
      });
    });
  } finally {
    timer?.cancel();
    settle?.cancel();
    await client.endAsync(true);
  }
  return [...found.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}
