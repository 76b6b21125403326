/**
 * The twins service's options, validated once at the boundary: `TwinsOptions` → `ResolvedTwinsOptions`
 * with every default filled in. Every message names the bad field.
 */
import { type Logger, pino } from "pino";
import { z } from "zod";
import { StallWatch, stallWatchOf } from "../node/stall-watch.js";
import type { WireFactory } from "../node/wire.js";
import {
  DEFAULT_PREFIX,
  isNodeId,
  type NodeId,
  OptionError,
  type Prefix,
  Prefix as toPrefix,
} from "../protocol/index.js";
import { type Scheduler, wallScheduler } from "./clock.js";
import { type BrokerTls, splitBrokerUrl } from "./connection.js";
import { CLIENT_ID_RE } from "./presence.js";
import { memoryStore, type TwinsStore } from "./store.js";

export interface TwinsOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  readonly url: string;
  /** Topic prefix of the fleet. Default `tf`. */
  readonly prefix?: string;
  /** Where desired state and pairings are kept. Default: in memory (lost on close). */
  readonly store?: TwinsStore;
  /**
   * The service's clock and timers (node/'s `Scheduler`): last-seen, the in-sync series, the connect
   * timeout, re-checks, the convergence throttle. Default `wallScheduler` (ms since the Unix epoch).
   */
  readonly scheduler?: Scheduler;
  /**
   * What tells the service that it itself did not run for a while (stopped, its VM paused:
   * node/stall-watch.ts). Default the scheduler's own watch (none on a fake one).
   */
  readonly stalls?: StallWatch;
  /**
   * When the service started, ms since the Unix epoch: the `since` of its presence. Default the
   * scheduler's date at start (`wallNow()`).
   */
  readonly startedAt?: number;
  /** Randomness for the MQTT client id. Default `Math.random`. */
  readonly random?: () => number;
  /** Where events and bad input are logged. Default: silent. */
  readonly logger?: Logger;
  /**
   * MQTT client id; default `<prefix>-twins-<random hex>`, so several services may share a broker.
   * 1-64 of A-Z a-z 0-9 _ . - (it names the service's presence topic).
   */
  readonly clientId?: string;
  /**
   * Only watch (an observer beside the fleet's controller): the same view and events, but nothing is
   * published (no query, no commands, no presence) and nothing is stored. Default false.
   */
  readonly passive?: boolean;
  /**
   * A passive service that sends one query (`Q1`) each time its connection comes back (not at its
   * first connect), so it hears every live node register again: the registers it missed while it
   * was away (a node whose own link came back sooner, a controller's query it was not there for)
   * are never sent again otherwise. What a fleet run's observer uses (its fault analysis counts a
   * node back once registered); nothing else is published. Default false; ignored unless passive.
   */
  readonly queryOnReconnect?: boolean;
  /**
   * Send a query (`Q1`) on every connect, so every live node of the fleet registers and reports again
   * (2 messages a node). Default true: a service that stays learns the nodes' identity and who is
   * alive from it (docs/twins.md, "How the view is built"). A tool that acts on a few nodes and ends
   * (the one-shot `set`, `pair`, `unpair`, `forget`) turns it off: the retained statuses, configs and
   * reports tell it what it needs, and a query made the whole fleet answer each command. Ignored for
   * a passive service (queryOnReconnect).
   */
  readonly queryOnConnect?: boolean;
  /**
   * Nodes whose own retained topics are subscribed to by name before the whole fleet's, so what the
   * service reads of them does not depend on the broker's queue for the rest (a one-shot command's
   * follower and source). Default none.
   */
  readonly focus?: readonly string[];
  /**
   * Have ReplayMarker.fate tell which SUBSCRIBEs of the nodes' topics the broker cut the replay of
   * (twins/replay-cut.ts: asked on every connection over a URL, and re-read by the service); a tool
   * that reads the fleet once and ends (the one-shot commands) turns it on. Default false.
   */
  readonly replayCheck?: boolean;
  /**
   * Hold a presence on the broker (`<prefix>/control/<clientId>`, protocol.md §6) so other tools can
   * see a controller runs. Default true; one-shot commands turn it off. Never for a passive service.
   */
  readonly presence?: boolean;
  /**
   * Probe the broker on the service's own connection (an empty message to itself every 500 ms on
   * `<prefix>/twins-probe/<clientId>`), so a broker that stops answering with its sockets open is
   * told silent after 5 s instead of at the keepalive (docs/twins.md, "A silent broker"). Default
   * true; a run turns it off (it probes the broker itself). Never over an in-process `wire`.
   */
  readonly probe?: boolean;
  /** Login; a user name or password in the URL is used when these are absent. */
  readonly username?: string;
  readonly password?: string;
  /** TLS trust and client certificate for mqtts:// and wss://. */
  readonly tls?: BrokerTls;
  /** How many points of the in-sync series are kept. Default 1024. */
  readonly historyCapacity?: number;
  /**
   * The most nodes the service tracks from what the broker delivers: a message naming one more is
   * dropped as bad input (`too-many-nodes`). Bounds what a client making up node ids can make it
   * hold (~1 KB a twin; 1.4 KB with the web page). Default `DEFAULT_MAX_NODES`.
   */
  readonly maxNodes?: number;
  /**
   * Retire a node not seen for longer than this while the service watched, as `forget` does
   * (twins/forget-after.ts): for a site whose boards are replaced and never forgotten by hand. At
   * least 1000 ms here; the CLI's `--forget-after` takes no less than an hour. Default: never.
   */
  readonly forgetAfterMs?: number;
  /**
   * Connect over this in-process transport (an in-memory broker's) instead of the URL's socket; the
   * URL is then `memory://…` and only names the broker in messages. For a virtual-time run.
   */
  readonly wire?: WireFactory;
  /**
   * Start without the broker: `startTwins` resolves with the service at once (its store restored),
   * and the first connection is tried again every `reconnectPeriodMs` while what fails may pass
   * (nothing listening yet, no answer, a reset), as a reconnect is; `twins.reached` settles when it
   * connects, or rejects on what retrying cannot fix (a refused login, TLS, a server that does not
   * speak MQTT). For a long-running service started beside its broker. Default false: `startTwins`
   * rejects on the first failure. Over a URL only (not `wire`).
   */
  readonly waitForBroker?: boolean;
  /** How long to wait for the first CONNACK (each attempt's, when waiting). Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  readonly reconnectPeriodMs?: number;
  /**
   * After pairing or set commands go to a node, further registers within this window do not send
   * them again (the node's config may simply not have come back yet). Default 1000 ms.
   */
  readonly resendHoldMs?: number;
  /**
   * Warn once when no node at all is seen some 24 s after connecting, naming the prefixes the broker
   * holds nodes under (twins/empty-fleet.ts), and show it as `fleetUnseen` until one is: for a service
   * an operator started on a broker and prefix of their choosing. Default false.
   */
  readonly warnEmptyFleet?: boolean;
}

export interface ResolvedTwinsOptions {
  /** The broker URL without credentials (those are in username and password). */
  readonly url: string;
  readonly prefix: Prefix;
  readonly store: TwinsStore;
  readonly scheduler: Scheduler;
  /** Whether the service itself stopped running for a while (node/stall-watch.ts); none on virtual time. */
  readonly stalls: StallWatch | undefined;
  readonly startedAt: number;
  readonly random: () => number;
  readonly logger: Logger;
  readonly clientId: string;
  readonly passive: boolean;
  readonly queryOnReconnect: boolean;
  readonly queryOnConnect: boolean;
  readonly focus: readonly NodeId[];
  readonly replayCheck: boolean;
  readonly presence: boolean;
  readonly probe: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: BrokerTls | undefined;
  readonly historyCapacity: number;
  readonly maxNodes: number;
  readonly forgetAfterMs: number | undefined;
  readonly wire: WireFactory | undefined;
  readonly waitForBroker: boolean;
  readonly connectTimeoutMs: number;
  readonly reconnectPeriodMs: number;
  readonly resendHoldMs: number;
  readonly warnEmptyFleet: boolean;
}

/** The most nodes a twins service tracks unless told otherwise: twice a 100,000-node fleet. */
export const DEFAULT_MAX_NODES = 200_000;

export class TwinsOptionsError extends OptionError {
  override readonly name = "TwinsOptionsError";
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", "must be a function");
const schema = z.object({
  url: z
    .string("must be a string")
    .regex(/^(mqtt|mqtts|ws|wss|tcp|memory):\/\/.+/, "must be a broker URL such as mqtt://localhost:1883"),
  prefix: z.string("must be a string").optional(),
  scheduler: z
    .custom<Scheduler>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        typeof (v as Scheduler).now === "function" &&
        typeof (v as Scheduler).wallNow === "function" &&
        typeof (v as Scheduler).at === "function",
      "must be a scheduler with now(), wallNow() and at()",
    )
    .optional(),
  stalls: z.instanceof(StallWatch, { message: "must be a StallWatch" }).optional(),
  startedAt: z.number("must be a number").int("must be an integer").min(0, "must not be negative").optional(),
  random: fn.optional(),
  clientId: z
    .string()
    .min(1, "must not be empty")
    .max(64, "must be at most 64 characters")
    .regex(CLIENT_ID_RE, "must be 1-64 of A-Z a-z 0-9 _ . -")
    .optional(),
  passive: z.boolean("must be a boolean").optional(),
  queryOnReconnect: z.boolean("must be a boolean").optional(),
  queryOnConnect: z.boolean("must be a boolean").optional(),
  focus: z.array(z.string().refine(isNodeId, "must hold node ids"), "must be an array").optional(),
  replayCheck: z.boolean("must be a boolean").optional(),
  presence: z.boolean("must be a boolean").optional(),
  probe: z.boolean("must be a boolean").optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z.object({}, "must be an object").passthrough().optional(),
  historyCapacity: z.number().int("must be an integer").min(1, "must be at least 1").optional(),
  maxNodes: z.number().int("must be an integer").min(1, "must be at least 1").optional(),
  forgetAfterMs: z.number().int("must be an integer").min(1000, "must be at least 1000 (1 s)").optional(),
  wire: fn.optional(),
  waitForBroker: z.boolean("must be a boolean").optional(),
  connectTimeoutMs: z.number().int("must be an integer").min(1, "must be positive").optional(),
  reconnectPeriodMs: z.number().int("must be an integer").min(0, "must not be negative").optional(),
  resendHoldMs: z.number().int("must be an integer").min(0, "must not be negative").optional(),
  warnEmptyFleet: z.boolean("must be a boolean").optional(),
});

export function resolveTwinsOptions(options: TwinsOptions): ResolvedTwinsOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    throw new TwinsOptionsError(`options.${field} ${issue?.message ?? "is invalid"}`);
  }
  if (options.url.startsWith("memory://") !== (options.wire !== undefined)) {
    throw new TwinsOptionsError(
      options.wire === undefined
        ? "options.url memory:// needs options.wire (an in-memory broker's transport)"
        : "options.wire needs a memory:// options.url",
    );
  }
  let prefix: Prefix;
  try {
    prefix = toPrefix(options.prefix ?? DEFAULT_PREFIX);
  } catch (e) {
    throw new TwinsOptionsError(`options.prefix: ${e instanceof Error ? e.message : String(e)}`);
  }
  const random = options.random ?? Math.random;
  const hex = Math.floor(random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, "0");
  const fromUrl = splitBrokerUrl(options.url);
  const scheduler = options.scheduler ?? wallScheduler;
  return {
    url: fromUrl.url,
    prefix,
    store: options.store ?? memoryStore(),
    scheduler,
    stalls: options.stalls ?? stallWatchOf(scheduler),
    startedAt: options.startedAt ?? Math.floor(scheduler.wallNow()),
    random,
    logger: options.logger ?? pino({ level: "silent" }),
    clientId: options.clientId ?? `${prefix}-twins-${hex}`,
    passive: options.passive ?? false,
    queryOnReconnect: (options.passive ?? false) && (options.queryOnReconnect ?? false),
    queryOnConnect: !(options.passive ?? false) && (options.queryOnConnect ?? true),
    focus: (options.focus ?? []).filter(isNodeId),
    replayCheck: options.replayCheck ?? false,
    presence: !(options.passive ?? false) && (options.presence ?? true),
    probe: options.wire === undefined && (options.probe ?? true),
    username: options.username ?? fromUrl.username,
    password: options.password ?? fromUrl.password,
    tls: options.tls,
    historyCapacity: options.historyCapacity ?? 1024,
    maxNodes: options.maxNodes ?? DEFAULT_MAX_NODES,
    forgetAfterMs: options.passive === true ? undefined : options.forgetAfterMs,
    wire: options.wire,
    waitForBroker: options.waitForBroker ?? false,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    reconnectPeriodMs: options.reconnectPeriodMs ?? 1000,
    resendHoldMs: options.resendHoldMs ?? 1000,
    warnEmptyFleet: options.warnEmptyFleet ?? false,
  };
}
