/**
 * The broker's abuse limits as options: their defaults (each with why), the library's schema
 * (`options.<field>`), the `twinfleet broker` flags that set them, and the mapping between the two.
 * broker/options.ts merges these into its own schemas.
 */
import { z } from "zod";
import { isDecimal, isWholeDecimal } from "../protocol/index.js";
import { DEFAULT_IPV6_PREFIX_BITS } from "./address-key.js";

export interface LimitOptions {
  /** Connections per second one source address may open, on average. */
  readonly connectionRatePerAddress?: number;
  /** Connections one source address may open in a burst before the rate applies. */
  readonly connectionBurstPerAddress?: number;
  /** Connections from one address accepted but not yet past CONNECT. */
  readonly maxPendingPerAddress?: number;
  /**
   * Bits of an IPv6 address that make one client for the per-address limits above and below (1-128;
   * 128: each address alone). IPv4 addresses are counted whole.
   */
  readonly ipv6PrefixBits?: number;
  /** Failed logins from one address within the window that ban the address. */
  readonly loginFailuresPerAddress?: number;
  /** Failed logins for one username within the window that ban it, except from addresses it logged in from. */
  readonly loginFailuresPerUsername?: number;
  readonly loginFailureWindowMs?: number;
  /** First ban; a repeat within a day doubles it, up to 64 ×. */
  readonly banMs?: number;
  /** Password checks (scrypt, on the libuv threadpool) run at once. */
  readonly loginConcurrency?: number;
  /** Subscriptions one client may hold; past it, SUBACK 0x80 for the filter. */
  readonly maxSubscriptionsPerClient?: number;
  /** Inbound QoS 2 messages one client may have awaiting PUBREL; past it, the client is cut. */
  readonly maxInflightPerClient?: number;
  /** QoS 1/2 messages a persistent session may hold (offline or unacknowledged); past it, new ones are dropped. */
  readonly maxQueuedMessagesPerClient?: number;
  /** Topics with a retained message; past it, a retained message on a new topic is delivered, not kept. */
  readonly maxRetainedMessages?: number;
  /** Bytes of retained topics and payloads; past it, as above (a topic's own replacement is always kept). */
  readonly maxRetainedBytes?: number;
  /** Persistent sessions (clean session 0) holding subscriptions; past it, a new one's SUBSCRIBE gets 0x80. */
  readonly maxSessions?: number;
  /** Payload bytes of inbound QoS 2 messages awaiting PUBREL, all sessions together (broker/inbound-limit.ts). */
  readonly maxInboundBytes?: number;
  /** PUBLISH packets per second one connection may send, on average; past it, its socket is read later (broker/publish-budget.ts). */
  readonly publishRate?: number;
  /** PUBLISH packets one connection may send at once before the rate applies. */
  readonly publishBurst?: number;
  /** Bytes of PUBLISH packets per second (and at once) one connection may send. */
  readonly publishBytesRate?: number;
}

/**
 * 500/s with a burst of 10,000: a simulated fleet runs on one host, so one address. It boots its
 * nodes over at most 20 s, 5 ms apart (fleet/run.ts): the 7,500 nodes of the scale benchmark open
 * 375 connections a second and fit in the burst; after a broker restart a whole fleet reconnects
 * within its 5 s reconnect period. A lab's boards each have their own address. What is expensive (a
 * password check) has its own limits below; this one only keeps a single address from opening
 * sockets without end.
 */
export const DEFAULT_CONNECTION_RATE_PER_ADDRESS = 500;
export const DEFAULT_CONNECTION_BURST_PER_ADDRESS = 10_000;
/**
 * 2,000: a fleet's connections each wait for CONNECT for milliseconds, even 1,000 reconnecting at
 * once after a broker restart; a silent socket costs a few KB for the connect timeout, so one
 * address holds at most some MB of them.
 */
export const DEFAULT_MAX_PENDING_PER_ADDRESS = 2000;
/**
 * 10 in a minute from one address, 20 for one username, then a 1-minute ban doubling on each repeat:
 * a board with a wrong password retries every 5 s (its reconnect period), 12 a minute, so a
 * misconfigured board is banned too — it could not log in anyway — and is let in again within a
 * minute of being fixed. EMQX's flapping detection bans after 15 connects in a minute for 5 minutes.
 */
export const DEFAULT_LOGIN_FAILURES_PER_ADDRESS = 10;
export const DEFAULT_LOGIN_FAILURES_PER_USERNAME = 20;
export const DEFAULT_LOGIN_FAILURE_WINDOW_MS = 60_000;
export const DEFAULT_BAN_MS = 60_000;
/** 2 of the threadpool's 4 threads: the LevelDB store and the file system keep the other two. */
export const DEFAULT_LOGIN_CONCURRENCY = 2;
/** 1,000: a node holds a handful of exact subscriptions, a tool or twins service a few wildcards. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT = 1000;
/** 1,000, aedes's own default: a QoS 2 sender that never sends PUBREL holds one stored packet each. */
export const DEFAULT_MAX_INFLIGHT_PER_CLIENT = 1000;
/**
 * 1,000, Mosquitto's max_queued_messages: every tool and node of this project uses clean sessions,
 * so only a foreign client with clean session 0 queues at all, and one that never returns should not
 * make the broker keep everything it subscribed to.
 */
export const DEFAULT_MAX_QUEUED_MESSAGES_PER_CLIENT = 1000;
/**
 * 1,000,000 topics and 256 MiB: a node retains three (its report, config and status, some 200 bytes
 * together), so a fleet of 20,000 holds 60,000 and 4 MB; the broker holds every retained message in
 * memory too (broker/retained-index.ts), and without a cap a client on the LAN retaining 64 KiB
 * payloads on topics of its own making grew it until the process or the disk gave out.
 */
export const DEFAULT_MAX_RETAINED_MESSAGES = 1_000_000;
/**
 * 100 persistent sessions: nodes and the twins use clean sessions, so only tools hold one (a
 * dashboard, a recorder). Each stored session costs every QoS 1 publish a store write while its
 * client is away: with `--data`, 200 sessions on `#` made a QoS 1 publish take 4 ms, 2,000 took 47 ms
 * (0.5 ms with none), and nothing else bounded how many a LAN client could make up; at this cap the
 * same 2,000 attempts leave it at 2.5-3.5 ms, at 1,000 it was 22 ms (broker/session-limit.ts).
 */
export const DEFAULT_MAX_SESSIONS = 100;
export const DEFAULT_MAX_RETAINED_BYTES = 256 * 1024 * 1024;
/** A fleet's QoS 2 flows hold a few messages at a time; 64 MiB is a thousand full 64 KiB packets. */
export const DEFAULT_MAX_INBOUND_BYTES = 64 * 1024 * 1024;

/**
 * 1,000 publishes a second with a burst of 20,000, and 4 MiB a second, per connection: a node
 * publishes a handful at a time; a twins service giving a whole fleet its pairings again (after an
 * in-memory broker restarted empty) sends one or two commands per node, so a fleet of 10,000 fits in
 * the burst, and its commands wait 10 s for their PUBACK. A flood within them is still handed to
 * aedes a few publishes at a time, taking turns with every other client (broker/publish-budget.ts).
 */
export const DEFAULT_PUBLISH_RATE = 1_000;
export const DEFAULT_PUBLISH_BURST = 20_000;
export const DEFAULT_PUBLISH_BYTES_RATE = 4 * 1024 * 1024;

export type ResolvedLimitOptions = Required<LimitOptions>;

const count = (min: number) =>
  z.int({ error: "must be a whole number" }).min(min, `must be at least ${min}`).optional();
const ms = z
  .int({ error: "must be a whole number of milliseconds" })
  .min(1, "must be at least 1 ms")
  .optional();

/** Library fields, checked by resolveBrokerOptions. */
export const limitFields = {
  connectionRatePerAddress: z.number({ error: "must be a number" }).positive("must be above 0").optional(),
  connectionBurstPerAddress: count(1),
  maxPendingPerAddress: count(1),
  ipv6PrefixBits: z
    .int({ error: "must be a prefix length from 1 to 128" })
    .min(1, "must be a prefix length from 1 to 128")
    .max(128, "must be a prefix length from 1 to 128")
    .optional(),
  loginFailuresPerAddress: count(1),
  loginFailuresPerUsername: count(1),
  loginFailureWindowMs: ms,
  banMs: ms,
  loginConcurrency: count(1),
  maxSubscriptionsPerClient: count(1),
  maxInflightPerClient: count(1),
  maxQueuedMessagesPerClient: count(1),
  maxRetainedMessages: count(1),
  maxRetainedBytes: count(1),
  maxSessions: count(1),
  maxInboundBytes: count(1),
  publishRate: z.number({ error: "must be a number" }).positive("must be above 0").optional(),
  publishBurst: count(1),
  publishBytesRate: count(1),
};

export function resolveLimits(o: LimitOptions): ResolvedLimitOptions {
  return {
    connectionRatePerAddress: o.connectionRatePerAddress ?? DEFAULT_CONNECTION_RATE_PER_ADDRESS,
    connectionBurstPerAddress: o.connectionBurstPerAddress ?? DEFAULT_CONNECTION_BURST_PER_ADDRESS,
    maxPendingPerAddress: o.maxPendingPerAddress ?? DEFAULT_MAX_PENDING_PER_ADDRESS,
    ipv6PrefixBits: o.ipv6PrefixBits ?? DEFAULT_IPV6_PREFIX_BITS,
    loginFailuresPerAddress: o.loginFailuresPerAddress ?? DEFAULT_LOGIN_FAILURES_PER_ADDRESS,
    loginFailuresPerUsername: o.loginFailuresPerUsername ?? DEFAULT_LOGIN_FAILURES_PER_USERNAME,
    loginFailureWindowMs: o.loginFailureWindowMs ?? DEFAULT_LOGIN_FAILURE_WINDOW_MS,
    banMs: o.banMs ?? DEFAULT_BAN_MS,
    loginConcurrency: o.loginConcurrency ?? DEFAULT_LOGIN_CONCURRENCY,
    maxSubscriptionsPerClient: o.maxSubscriptionsPerClient ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT,
    maxInflightPerClient: o.maxInflightPerClient ?? DEFAULT_MAX_INFLIGHT_PER_CLIENT,
    maxQueuedMessagesPerClient: o.maxQueuedMessagesPerClient ?? DEFAULT_MAX_QUEUED_MESSAGES_PER_CLIENT,
    maxRetainedMessages: o.maxRetainedMessages ?? DEFAULT_MAX_RETAINED_MESSAGES,
    maxRetainedBytes: o.maxRetainedBytes ?? DEFAULT_MAX_RETAINED_BYTES,
    maxSessions: o.maxSessions ?? DEFAULT_MAX_SESSIONS,
    maxInboundBytes: o.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES,
    publishRate: o.publishRate ?? DEFAULT_PUBLISH_RATE,
    publishBurst: o.publishBurst ?? DEFAULT_PUBLISH_BURST,
    publishBytesRate: o.publishBytesRate ?? DEFAULT_PUBLISH_BYTES_RATE,
  };
}

/** `twinfleet broker` flag (camel-cased, as commander names it) → library field. */
export const LIMIT_FLAGS = {
  connectTimeout: "connectTimeoutMs",
  connectionRate: "connectionRatePerAddress",
  connectionBurst: "connectionBurstPerAddress",
  maxPending: "maxPendingPerAddress",
  ipv6Prefix: "ipv6PrefixBits",
  loginFailures: "loginFailuresPerAddress",
  userLoginFailures: "loginFailuresPerUsername",
  loginWindow: "loginFailureWindowMs",
  banTime: "banMs",
  loginConcurrency: "loginConcurrency",
  maxSubscriptions: "maxSubscriptionsPerClient",
  maxInflight: "maxInflightPerClient",
  maxQueuedMessages: "maxQueuedMessagesPerClient",
  maxRetained: "maxRetainedMessages",
  maxRetainedBytes: "maxRetainedBytes",
  maxSessions: "maxSessions",
  maxInboundBytes: "maxInboundBytes",
  publishRate: "publishRate",
  publishBurst: "publishBurst",
  publishBytesRate: "publishBytesRate",
} as const;
export type LimitFlag = keyof typeof LIMIT_FLAGS;
export type LimitCommandOptions = { readonly [K in LimitFlag]?: string | number };

const MAX_MS = 2 ** 31 - 1;
const intFlag = (what: string, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && isWholeDecimal(v) ? Number(v) : v),
    z
      .int({ error: `must be ${what}` })
      .min(min, `must be ${what}`)
      .max(max, `must be ${what}`)
      .optional(),
  );
const countFlag = intFlag("a whole number of at least 1", 1, Number.MAX_SAFE_INTEGER);
const msFlag = intFlag("a positive number of milliseconds", 1, MAX_MS);

/** Flag fields, checked by parseBrokerCommandOptions (errors name the flag). */
export const limitFlagFields = {
  connectTimeout: msFlag,
  connectionRate: z.preprocess(
    (v) => (typeof v === "string" && isDecimal(v) ? Number(v) : v),
    z.number({ error: "must be a number of connections per second above 0" }).positive().optional(),
  ),
  connectionBurst: countFlag,
  maxPending: countFlag,
  ipv6Prefix: intFlag("a prefix length from 1 to 128", 1, 128),
  loginFailures: countFlag,
  userLoginFailures: countFlag,
  loginWindow: msFlag,
  banTime: msFlag,
  loginConcurrency: countFlag,
  maxSubscriptions: countFlag,
  maxInflight: countFlag,
  maxQueuedMessages: countFlag,
  maxRetained: countFlag,
  maxRetainedBytes: countFlag,
  maxSessions: countFlag,
  maxInboundBytes: countFlag,
  publishRate: z.preprocess(
    (v) => (typeof v === "string" && isDecimal(v) ? Number(v) : v),
    z.number({ error: "must be a number of messages per second above 0" }).positive().optional(),
  ),
  publishBurst: countFlag,
  publishBytesRate: countFlag,
};

/** The library options the limit flags set (unset flags stay unset). */
export function limitsFromFlags(
  o: { readonly [K in LimitFlag]?: number | undefined },
): LimitOptions & { connectTimeoutMs?: number } {
  const out: Record<string, number> = {};
  for (const [flag, field] of Object.entries(LIMIT_FLAGS)) {
    const v = o[flag as LimitFlag];
    if (v !== undefined) out[field] = v;
  }
  return out;
}
