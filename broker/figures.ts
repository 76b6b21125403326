/**
 * What one broker can tell about itself for `/metrics` and `/healthz`: connections accepted by
 * listener, connections refused or cut by reason (the reasons its log gives), its PUBLISH traffic
 * (broker/frame-limit.ts counts it as headers pass), and — read when asked, never kept up to date —
 * clients and subscriptions now, retained messages held and whether its store answers. Counting is
 * an increment on an event the broker handles anyway; nothing here runs per message but that.
 */
import type { Aedes } from "aedes";
import { after, RealScheduler, type Scheduler } from "../node/scheduler.js";
import type { TrafficCounters } from "./frame-limit.js";
import type { SessionCount } from "./session-limit.js";
import type { SessionQueueFigures } from "./session-queue.js";
import type { BackupSummary } from "./store-backup.js";

/** Where a connection came in: plain MQTT, MQTT over TLS, over WebSocket, or the in-memory transport. */
export const LISTENER_KINDS = ["mqtt", "tls", "ws", "in-memory"] as const;
export type ListenerKind = (typeof LISTENER_KINDS)[number];

/** Why a connection was refused before it became a client (the words of the broker's log). */
export const REFUSAL_REASONS = [
  "address-banned",
  "username-banned",
  "bad-login",
  "rate",
  "pending",
  "connect-timeout",
  "tls-handshake",
  "ws-upgrade-timeout",
  "ws-subprotocol",
  "open-files",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Why the broker cut a connection (its log's words): packet limit, protocol, slow reader, takeover. */
export const CUT_REASONS = [
  "packet-too-large",
  "malformed-length",
  "protocol-violation",
  "ping-flood",
  "queue-full",
  "stalled",
  "keepalive-timeout",
  "takeover",
  "credentials-revoked",
] as const;
export type CutReason = (typeof CUT_REASONS)[number];

/** The store now: up, or what is wrong with it in one sentence naming it. */
export type StoreHealth = { readonly up: true } | { readonly up: false; readonly problem: string };

const zeroes = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The counts the broker's own handlers increment: one field or array slot each, no labels built. */
export class BrokerTally {
  readonly accepted = zeroes(LISTENER_KINDS);
  readonly refused = zeroes(REFUSAL_REASONS);
  readonly cut = zeroes(CUT_REASONS);
  /** Takeovers (counted in `cut.takeover` too) of an id taken over already within 30 s: two clients on one id. */
  takeoversRepeated = 0;
  /** Retained messages on new topics delivered but not kept: the retained store was at its cap. */
  retainedRefused = 0;
  /** SUBSCRIBEs refused for starting a persistent session past --max-sessions. */
  sessionsRefused = 0;
  /** Persistent sessions dropped for being away longer than --session-expiry. */
  sessionsExpired = 0;
  /** PUBLISH packets that came past their client's publish budget and were read later (broker/publish-budget.ts). */
  publishesPaced = 0;
  /** Times a client's socket stopped being read for publishing past its budget. */
  publishHolds = 0;
  /** Clients whose socket is not read now for publishing past their budget. */
  clientsPaced = 0;
  /** Reloads (SIGHUP, broker/reload.ts) that took, and those that failed and changed nothing. */
  readonly reloads = { ok: 0, failed: 0 };
  /** Whether the last reload took (true before any). */
  lastReloadOk = true;
  /** When the TLS certificate served to new handshakes stops being valid (ms since the epoch). */
  certificateNotAfter: number | undefined;
  readonly traffic: TrafficCounters = newTraffic();
  /** The listener of each connection handed to aedes (its FrameLimitedStream), for clientsNow(). */
  readonly #listeners = new WeakMap<object, ListenerKind>();

  accept(conn: object, listener: ListenerKind): void {
    this.accepted[listener]++;
    this.#listeners.set(conn, listener);
  }

  listenerOf(conn: object): ListenerKind | undefined {
    return this.#listeners.get(conn);
  }
}

export function newTraffic(): TrafficCounters {
  return {
    publishesOut: 0,
    inByQos: [0, 0, 0, 0],
    outByQos: [0, 0, 0, 0],
    bytesIn: 0,
    bytesOut: 0,
  };
}

/** What `/metrics` and `/healthz` read of a running broker. */
export interface BrokerFigures {
  readonly store: "memory" | "level" | "redis";
  /** Counted since the start (never reset while it runs). */
  readonly tally: Readonly<BrokerTally>;
  /** Clients past CONNECT now, by the listener they came in on. */
  clientsNow(): Record<ListenerKind, number>;
  /** Subscriptions the connected clients hold now (an offline session's are in the store only). */
  subscriptions(): number;
  /** Retained messages held now; undefined when the store cannot tell cheaply (Redis). */
  retained(): number | undefined;
  /**
   * Persistent sessions (clean session 0) holding subscriptions, their clients connected or away: the
   * store's count, as `--max-sessions` counts them (broker/session-limit.ts). Rejects when the store
   * has not answered within `STORE_COUNT_WAIT_MS` (a stalled disk: broker/store-stall.ts).
   */
  persistentSessions(): Promise<number>;
  /** The cap on them (`--max-sessions`). */
  readonly maxSessions: number;
  /** Messages held for persistent sessions and those not kept past `--max-queued-messages`. */
  readonly sessionQueues: SessionQueueFigures;
  storeHealth(): StoreHealth;
  /**
   * A snapshot of the whole store as a backup stream (broker/store-backup.ts), taken now; or why this
   * store has none (in memory, Redis).
   */
  backup(): { readonly stream: AsyncGenerator<Buffer, BackupSummary> } | { readonly refused: string };
  /** False once close() or kill() has begun. */
  listening(): boolean;
}

interface ClientView {
  readonly conn: object;
  readonly subscriptions: Readonly<Record<string, unknown>>;
}

/**
 * 1 s: the store counts sessions in milliseconds. A stalled disk holds every thread of the pool the
 * store reads on, so the count never came and neither did the scrape (`/metrics` gave nothing for as
 * long as the stall lasted, its `store_up 0` included).
 */
export const STORE_COUNT_WAIT_MS = 1_000;

/** Figures read from aedes's registry of connected clients when asked; `scheduler` times the store's count. */
export function brokerFigures(
  aedes: Aedes,
  tally: BrokerTally,
  store: {
    readonly kind: BrokerFigures["store"];
    readonly persistence: unknown;
    health(): StoreHealth;
    retained?(): number;
    backup?(): AsyncGenerator<Buffer, BackupSummary>;
    readonly noBackup?: string;
  },
  listening: () => boolean,
  maxSessions: number,
  sessionQueues: SessionQueueFigures,
  scheduler: Scheduler = new RealScheduler(),
): BrokerFigures {
  // One count at a time: scrapes during a stall wait on the same one rather than each adding a read.
  let counting: Promise<number> | undefined;
  const count = () => {
    counting ??= (store.persistence as SessionCount)
      .countOffline()
      .then((c) => c.clientsCount)
      .finally(() => {
        counting = undefined;
      });
    return counting;
  };
  const clients = () =>
    Object.values((aedes as unknown as { clients: Record<string, ClientView | undefined> }).clients);
  return {
    store: store.kind,
    tally,
    clientsNow() {
      const now = zeroes(LISTENER_KINDS);
      for (const c of clients()) {
        const listener = c === undefined ? undefined : tally.listenerOf(c.conn);
        if (listener !== undefined) now[listener]++;
      }
      return now;
    },
    subscriptions() {
      let n = 0;
      for (const c of clients()) if (c !== undefined) n += Object.keys(c.subscriptions).length;
      return n;
    },
    retained: () => store.retained?.(),
    persistentSessions: () =>
      new Promise<number>((resolve, reject) => {
        const late = after(scheduler, STORE_COUNT_WAIT_MS, () =>
          reject(new Error(`the store has not counted its sessions within ${STORE_COUNT_WAIT_MS} ms`)),
        );
        count().then(
          (n) => {
            late.cancel();
            resolve(n);
          },
          (err: unknown) => {
            late.cancel();
            reject(err);
          },
        );
      }),
    maxSessions,
    sessionQueues,
    storeHealth: () => store.health(),
    backup: () =>
      store.backup === undefined
        ? { refused: store.noBackup ?? "this broker's store cannot be backed up" }
        : { stream: store.backup() },
    listening,
  };
}
