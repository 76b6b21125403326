/**
 * The broker's options, validated once at the boundary: `BrokerOptions` → `ResolvedBrokerOptions`
 * (every default filled in) for the library, and `BrokerCommandOptions` (flag values as the CLI
 * parser hands them over) → `BrokerOptions` for `twinfleet broker`. Every message names its field.
 */
import type { Logger } from "pino";
import { z } from "zod";
import type { Scheduler } from "../node/scheduler.js";
import { isWholeDecimal, OptionError } from "../protocol/index.js";
import { shown } from "../protocol/shown.js";
import type { AccessPolicy } from "./acl.js";
import { topicFilterProblem } from "./conformance.js";
import { expiryFlag } from "./expiry-flag.js";
import { hostFlag } from "./host-flag.js";
import {
  type LimitCommandOptions,
  type LimitOptions,
  limitFields,
  limitFlagFields,
  limitsFromFlags,
  resolveLimits,
} from "./limit-options.js";
import type { HostLookup } from "./listen.js";
import { describeIssues, toFlag } from "./option-issues.js";
import { redisUrlProblem } from "./redis-url.js";
import { samePort } from "./same-port.js";
import { DEFAULT_STALE_WILL_GRACE_MS } from "./stale-wills.js";

export interface TlsOptions {
  /** Port of the MQTT-over-TLS listener; 0 picks a free one. */
  readonly port: number;
  /** PEM private key file. */
  readonly keyFile: string;
  /** PEM certificate (chain) file. */
  readonly certFile: string;
}

/** The abuse limits (connection rate, logins, per-client) are in broker/limit-options.ts. */
export interface BrokerOptions extends LimitOptions {
  /** Interface to listen on. Default "0.0.0.0": real Arduinos connect over the LAN. */
  readonly host?: string;
  /** Plain MQTT port; 0 picks a free one (tests). Default 1883. */
  readonly port?: number;
  /** MQTT-over-WebSocket port, for tools; off unless given. */
  readonly wsPort?: number;
  readonly tls?: TlsOptions;
  /** Directory of the LevelDB store; in memory (lost on stop) unless given. */
  readonly dataDir?: string;
  /** With `dataDir`: how long the previous run's clients have to reconnect before their wills go out. */
  readonly staleWillGraceMs?: number;
  /**
   * A Redis server shared with other brokers (`redis://host:port`): the store, and the channel that
   * carries messages between the brokers (broker/redis-store.ts). Excludes `dataDir`.
   */
  readonly redisUrl?: string;
  /** Largest MQTT packet accepted, fixed header included; a larger one cuts its connection. */
  readonly maxPacketBytes?: number;
  /** Bytes that may wait in the broker for one client (it reads slowly or not at all) before it is cut. */
  readonly maxQueuedBytes?: number;
  /** How long a client's socket may take none of the bytes waiting for it before it is disconnected. */
  readonly drainTimeoutMs?: number;
  /** How long a new connection may take to send all of its CONNECT; then it is closed. */
  readonly connectTimeoutMs?: number;
  /** Credentials and access rules (protocol.md §7); everyone may do everything unless given. */
  readonly auth?: AccessPolicy;
  /** Longest client id accepted, in bytes (at least 23, [MQTT-3.1.3-5]); longer gets CONNACK 0x02. */
  readonly maxClientIdBytes?: number;
  /** Most topic filters in one SUBSCRIBE; one with more closes its connection. */
  readonly maxFiltersPerSubscribe?: number;
  /** Topic filters nobody may subscribe to: a SUBSCRIBE they match gets SUBACK 0x80 (docs/broker.md). */
  readonly denySubscribe?: readonly string[];
  /** How long a persistent session may be away before it is dropped (broker/session-expiry.ts); never unless given. */
  readonly sessionExpiryMs?: number;
  /** The clock of session expiry, a stalled store, a silent Redis, the CONNECT wait (tests); else the wall's. */
  readonly scheduler?: Scheduler;
  /** Where the broker logs; silent unless given. */
  readonly logger?: Logger;
  /** How a `host` name is looked up (tests); the system's resolver (getaddrinfo) unless given. */
  readonly lookup?: HostLookup;
}

/**
 * 64 KiB: PubSubClient nodes never exceed 256 B (protocol.md §1), but tools may send more, and
 * anything in the tens of KiB is still cheap to buffer for many connections at once.
 */
export const DEFAULT_MAX_PACKET_BYTES = 64 * 1024;
/**
 * 4 MiB. A node's own traffic is tiny (a few 256-byte packets per press), so only a tool reaches
 * this: one subscribed to `#` on a 10,000-node fleet is sent about 2 MB of retained reports, configs
 * and statuses (some 170 bytes per node) at once when it subscribes, as much again when a query makes
 * every node re-publish, much of it before it has read any. Twice that leaves room; and a frozen
 * client costs at most this much memory, being cut as soon as it passes it.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/**
 * 10 s: longer than one W5100 retransmission gap (at most 6.4 s, facts.md), so a node on a lossy
 * link is not cut for one lost segment, yet a client that reads nothing at all is let go well before
 * its keepalive would tell (1.5 × 60 s).
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/**
 * 7 s. The clock starts when the TCP handshake completes and a board sends CONNECT at once, in one
 * small segment; a W5100 resends a lost segment after 0.2 s, the wait doubling (facts.md), so a
 * CONNECT lost 5 times in a row still arrives by 6.2 s. At 10 % loss that leaves one connection in
 * 10^6 cut, which the board retries after its reconnect period. Meanwhile a silent or half-sent
 * connection costs a socket for 7 s instead of aedes's 30 s.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 7_000;
/**
 * 256 bytes: about ten times what MQTT 3.1.1 requires a server to allow (23, [MQTT-3.1.3-5]) and far more
 * than any tool generates (MQTT.js: 15, `mqttjs_` and 8 hex digits), while a client id is kept for
 * every session and in logs.
 */
export const DEFAULT_MAX_CLIENT_ID_BYTES = 256;
export const MIN_MAX_CLIENT_ID_BYTES = 23;
/** A §1.5.3 string is at most 65,535 bytes. */
export const MAX_MAX_CLIENT_ID_BYTES = 65_535;
/**
 * 64: a node subscribes to at most a handful of topics per packet and the twins to two; each filter
 * in a SUBSCRIBE costs a store write and a retained-message lookup before its SUBACK.
 */
export const DEFAULT_MAX_FILTERS_PER_SUBSCRIBE = 64;
export const MAX_MAX_FILTERS_PER_SUBSCRIBE = 65_535;
export const DEFAULT_PORT = 1883;
export const DEFAULT_HOST = "0.0.0.0";
/** The smallest limit that still lets a node's 256-byte packets through. */
export const MIN_MAX_PACKET_BYTES = 256;
/** The largest size a 4-byte remaining length can declare, plus the 5-byte fixed header. */
export const MAX_MAX_PACKET_BYTES = 268_435_455 + 5;
export const MIN_MAX_QUEUED_BYTES = MIN_MAX_PACKET_BYTES;

/** A client's queue must hold at least one of the largest packets the broker accepts. */
function checkQueueHoldsAPacket(
  maxQueuedBytes: number | undefined,
  maxPacketBytes: number | undefined,
  ctx: z.RefinementCtx,
  packetName: string,
): void {
  if (maxQueuedBytes === undefined) return;
  const packet = maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  if (maxQueuedBytes >= packet) return;
  ctx.addIssue({
    code: "custom",
    path: ["maxQueuedBytes"],
    message: `must be at least ${packetName} (${packet}): one largest packet must fit`,
  });
}

const REDIS_EXPIRY =
  "is not for a Redis store: its sessions are shared by every broker on it (expire them in Redis)";

export class BrokerOptionsError extends OptionError {
  override readonly name = "BrokerOptionsError";
}

type Unset = "wsPort" | "tls" | "dataDir" | "redisUrl" | "auth" | "sessionExpiryMs" | "scheduler" | "lookup";
export type ResolvedBrokerOptions = Required<Omit<BrokerOptions, Unset | "logger" | "denySubscribe">> &
  Pick<BrokerOptions, Unset> & {
    readonly logger: Logger | undefined;
    readonly denySubscribe: readonly string[];
  };

const PORT_MESSAGE = "must be an integer port 0-65535";
const portSchema = z.int({ error: PORT_MESSAGE }).min(0, PORT_MESSAGE).max(65535, PORT_MESSAGE);
const positiveMs = z.int({ error: "must be a whole number of milliseconds" }).min(1, "must be at least 1 ms");
const CLIENT_ID_MESSAGE = `must be a byte count ${MIN_MAX_CLIENT_ID_BYTES}-${MAX_MAX_CLIENT_ID_BYTES}`;
const FILTERS_MESSAGE = `must be a count 1-${MAX_MAX_FILTERS_PER_SUBSCRIBE}`;
const redisUrlSchema = z.string().superRefine((url, ctx) => {
  const problem = redisUrlProblem(url);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
const filterSchema = z.string().refine((f) => topicFilterProblem(f) === undefined, {
  error: (issue) =>
    `has an invalid topic filter ${shown(String(issue.input))}: ${topicFilterProblem(String(issue.input))}`,
});

const libraryNumbers = z
  .object({
    host: z.string().min(1, "must not be empty").optional(),
    port: portSchema.optional(),
    wsPort: portSchema.optional(),
    tls: z
      .object({
        port: portSchema,
        keyFile: z.string().min(1, "must not be empty"),
        certFile: z.string().min(1, "must not be empty"),
      })
      .optional(),
    dataDir: z.string().min(1, "must not be empty").optional(),
    staleWillGraceMs: z.int({ error: "must be a whole number of milliseconds" }).min(0).optional(),
    redisUrl: redisUrlSchema.optional(),
    maxPacketBytes: z
      .int({ error: "must be an integer number of bytes" })
      .min(MIN_MAX_PACKET_BYTES, `must be at least ${MIN_MAX_PACKET_BYTES} (a node's packet size)`)
      .max(MAX_MAX_PACKET_BYTES, `must be at most ${MAX_MAX_PACKET_BYTES} (MQTT's own maximum)`)
      .optional(),
    maxQueuedBytes: z
      .int({ error: "must be an integer number of bytes" })
      .min(MIN_MAX_QUEUED_BYTES, `must be at least ${MIN_MAX_QUEUED_BYTES}`)
      .optional(),
    drainTimeoutMs: positiveMs.optional(),
    connectTimeoutMs: positiveMs.optional(),
    ...limitFields,
    maxClientIdBytes: z
      .int({ error: CLIENT_ID_MESSAGE })
      .min(MIN_MAX_CLIENT_ID_BYTES, CLIENT_ID_MESSAGE)
      .max(MAX_MAX_CLIENT_ID_BYTES, CLIENT_ID_MESSAGE)
      .optional(),
    maxFiltersPerSubscribe: z
      .int({ error: FILTERS_MESSAGE })
      .min(1, FILTERS_MESSAGE)
      .max(MAX_MAX_FILTERS_PER_SUBSCRIBE, FILTERS_MESSAGE)
      .optional(),
    denySubscribe: z.array(filterSchema, { error: "must be a list of topic filters" }).optional(),
    sessionExpiryMs: positiveMs.optional(),
  })
  .superRefine((o, ctx) => {
    checkQueueHoldsAPacket(o.maxQueuedBytes, o.maxPacketBytes, ctx, "maxPacketBytes");
    if (o.dataDir !== undefined && o.redisUrl !== undefined)
      ctx.addIssue({ code: "custom", path: ["redisUrl"], message: "excludes dataDir: give one store" });
    if (o.sessionExpiryMs !== undefined && o.redisUrl !== undefined)
      ctx.addIssue({ code: "custom", path: ["sessionExpiryMs"], message: REDIS_EXPIRY });
  });

/** Fills in the defaults; throws BrokerOptionsError naming every bad field as `options.<field>`. */
export function resolveBrokerOptions(options: BrokerOptions = {}): ResolvedBrokerOptions {
  const { auth, logger, scheduler, lookup, ...plain } = options;
  const parsed = libraryNumbers.safeParse(plain);
  if (!parsed.success) throw new BrokerOptionsError(describeIssues(parsed.error, "options."));
  const o = parsed.data;
  return {
    host: o.host ?? DEFAULT_HOST,
    port: o.port ?? DEFAULT_PORT,
    wsPort: o.wsPort,
    tls: o.tls,
    dataDir: o.dataDir,
    staleWillGraceMs: o.staleWillGraceMs ?? DEFAULT_STALE_WILL_GRACE_MS,
    redisUrl: o.redisUrl,
    maxPacketBytes: o.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES,
    maxQueuedBytes: o.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    drainTimeoutMs: o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...resolveLimits(o),
    maxClientIdBytes: o.maxClientIdBytes ?? DEFAULT_MAX_CLIENT_ID_BYTES,
    maxFiltersPerSubscribe: o.maxFiltersPerSubscribe ?? DEFAULT_MAX_FILTERS_PER_SUBSCRIBE,
    denySubscribe: o.denySubscribe ?? [],
    sessionExpiryMs: o.sessionExpiryMs,
    scheduler,
    lookup,
    auth,
    logger,
  };
}

/**
 * Flag values of `twinfleet broker` as commander hands them over: strings, or numbers when the CLI
 * layer already parsed them. Keys are the camel-cased flag names.
 */
export interface BrokerCommandOptions extends LimitCommandOptions {
  readonly host?: string;
  readonly port?: string | number;
  readonly wsPort?: string | number;
  readonly tlsPort?: string | number;
  readonly tlsKey?: string;
  readonly tlsCert?: string;
  readonly data?: string;
  readonly willGrace?: string | number;
  /** Redis URL shared with other brokers; excludes `data`. */
  readonly redis?: string;
  /** JSON credentials file (see docs/broker.md). */
  readonly auth?: string;
  readonly maxPacketBytes?: string | number;
  readonly maxQueuedBytes?: string | number;
  readonly drainTimeout?: string | number;
  readonly maxClientIdBytes?: string | number;
  readonly maxFiltersPerSubscribe?: string | number;
  /** Repeatable: commander collects the values. */
  readonly denySubscribe?: readonly string[];
  readonly sessionExpiry?: string | number;
}

/** The flag values, checked; `authFile` is loaded by runBrokerCommand. */
export interface ParsedBrokerCommand {
  readonly broker: Omit<BrokerOptions, "auth" | "logger">;
  readonly authFile: string | undefined;
}

// Digit strings become numbers; anything else reaches z.int() unchanged and fails with the message.
const intFlag = (what: string, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && isWholeDecimal(v) ? Number(v) : v),
    z
      .int({ error: `must be ${what}` })
      .min(min, `must be ${what}`)
      .max(max, `must be ${what}`),
  );
const portFlag = intFlag("a port number 0-65535", 0, 65535);
const fileFlag = z.string().min(1, "must name a file");

const commandSchema = z
  .object({
    host: hostFlag.optional(),
    port: portFlag.optional(),
    wsPort: portFlag.optional(),
    tlsPort: portFlag.optional(),
    tlsKey: fileFlag.optional(),
    tlsCert: fileFlag.optional(),
    data: z.string().min(1, "must name a directory").optional(),
    willGrace: intFlag("a whole number of seconds from 0 to 86400", 0, 86_400).optional(),
    redis: redisUrlSchema.optional(),
    auth: fileFlag.optional(),
    maxPacketBytes: intFlag(
      `a byte count ${MIN_MAX_PACKET_BYTES}-${MAX_MAX_PACKET_BYTES}`,
      MIN_MAX_PACKET_BYTES,
      MAX_MAX_PACKET_BYTES,
    ).optional(),
    maxQueuedBytes: intFlag(
      `a byte count of at least ${MIN_MAX_QUEUED_BYTES}`,
      MIN_MAX_QUEUED_BYTES,
      Number.MAX_SAFE_INTEGER,
    ).optional(),
    drainTimeout: intFlag("a positive number of milliseconds", 1, 2 ** 31 - 1).optional(),
    ...limitFlagFields,
    maxClientIdBytes: intFlag(
      `a byte count ${MIN_MAX_CLIENT_ID_BYTES}-${MAX_MAX_CLIENT_ID_BYTES}`,
      MIN_MAX_CLIENT_ID_BYTES,
      MAX_MAX_CLIENT_ID_BYTES,
    ).optional(),
    maxFiltersPerSubscribe: intFlag(
      `a count 1-${MAX_MAX_FILTERS_PER_SUBSCRIBE}`,
      1,
      MAX_MAX_FILTERS_PER_SUBSCRIBE,
    ).optional(),
    denySubscribe: z.array(filterSchema).optional(),
    sessionExpiry: expiryFlag.optional(),
  })
  .superRefine((o, ctx) => {
    checkQueueHoldsAPacket(o.maxQueuedBytes, o.maxPacketBytes, ctx, "--max-packet-bytes");
    if (o.willGrace !== undefined && o.data === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["willGrace"],
        message: "needs --data (only a data directory keeps wills)",
      });
    if (o.data !== undefined && o.redis !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["redis"],
        message: "excludes --data: the store is then in Redis; give one of them",
      });
    if (o.sessionExpiry !== undefined && o.redis !== undefined)
      ctx.addIssue({ code: "custom", path: ["sessionExpiry"], message: REDIS_EXPIRY });
    const missing = Object.entries({ tlsPort: o.tlsPort, tlsKey: o.tlsKey, tlsCert: o.tlsCert }).filter(
      ([, value]) => value === undefined,
    );
    samePort(o, DEFAULT_PORT, ctx);
    if (missing.length === 0 || missing.length === 3) return;
    // One line naming what was given and what is not: `--tls-port and --tls-cert are required with --tls-key`.
    const given = ["tlsPort", "tlsKey", "tlsCert"]
      .filter((key) => !missing.some(([m]) => m === key))
      .map((key) => `--${toFlag(key)}`);
    const [first = "tlsPort", ...rest] = missing.map(([key]) => key);
    const others = rest.map((key) => ` and --${toFlag(key)}`).join("");
    const verb = rest.length === 0 ? "is" : "are";
    const message = `${others} ${verb} required with ${given.join(" and ")} (a TLS listener needs all three; give all three or none)`;
    ctx.addIssue({ code: "custom", path: [first], message: message.trimStart() });
  });

/** Validates flag values; throws BrokerOptionsError naming each bad flag, e.g. `--ws-port must be …`. */
export function parseBrokerCommandOptions(raw: BrokerCommandOptions): ParsedBrokerCommand {
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success)
    throw new BrokerOptionsError(describeIssues(parsed.error, "--", toFlag, raw as Record<string, unknown>));
  const o = parsed.data;
  const tls =
    o.tlsPort !== undefined && o.tlsKey !== undefined && o.tlsCert !== undefined
      ? { port: o.tlsPort, keyFile: o.tlsKey, certFile: o.tlsCert }
      : undefined;
  return {
    broker: {
      host: o.host,
      port: o.port,
      wsPort: o.wsPort,
      tls,
      dataDir: o.data,
      staleWillGraceMs: o.willGrace === undefined ? undefined : o.willGrace * 1000,
      redisUrl: o.redis,
      maxPacketBytes: o.maxPacketBytes,
      maxQueuedBytes: o.maxQueuedBytes,
      drainTimeoutMs: o.drainTimeout,
      ...limitsFromFlags(o),
      maxClientIdBytes: o.maxClientIdBytes,
      maxFiltersPerSubscribe: o.maxFiltersPerSubscribe,
      denySubscribe: o.denySubscribe,
      sessionExpiryMs: o.sessionExpiry,
    },
    authFile: o.auth,
  };
}
