/**
 * The broker's address as a run's simulated nodes hold it. A board is given its broker's address
 * (the sketch's TF_BROKER_IP, firmware/twinfleet_node/config.h: it has no DNS client) and connects
 * there until it is flashed again. The simulated nodes looked the broker's host name up at each
 * connect instead: a broker moved to another host under the same name (a standby, a new DHCP lease)
 * was followed by every node at once, which no board does, and a resolver down held every node's
 * reconnect with it. The name is now looked up once, as the run starts, and the nodes connect to the
 * addresses it named then (each in turn, as Node tries a name's: node/wire.ts). The run's own
 * connection (its twins service, its probe) still looks the name up at each reconnect; each time it
 * is back after a loss the name is looked up again, and a name that names other addresses now is
 * told once per change: the run's service reached the broker there, its nodes will not. A name that
 * moves while the old broker stays up (a standby promoted, the old one left running) cuts no
 * connection: the name is also looked up every BROKER_NAME_CHECK_MS on the run's scheduler.
 */
import { isIP } from "node:net";
import { type HostLookup, lookupAll, lookupFailure } from "../broker/listen.js";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { BrokerWatchable } from "./broker-outages.js";

/** How often the nodes' broker name is looked up again while the run's connection stays up. */
export const BROKER_NAME_CHECK_MS = 60_000;

/** Where the nodes connect: the URL's host and port, and the addresses a host name named at the start. */
export interface NodeBrokerAt {
  readonly host: string;
  readonly port: number;
  /** Absent for an IP address in the URL. */
  readonly addresses?: readonly string[];
}

/**
 * Where the nodes open their TCP connections to the broker at `url`: its host and port. An IPv6
 * address goes without the brackets a URL holds it in (`mqtt://[::1]:1883` is host `::1`): given to
 * the socket as `[::1]`, it was looked up as a host name and not one node could connect.
 */
export function brokerSocket(url: string): { readonly host: string; readonly port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(port || 1883) };
}

/** `url`'s host and port, a host name looked up once with `lookup` (default: the system's). */
export async function pinBrokerAddress(url: string, lookup: HostLookup = lookupAll): Promise<NodeBrokerAt> {
  const at = brokerSocket(url);
  if (isIP(at.host) !== 0) return at;
  let found: readonly string[];
  try {
    found = await lookup(at.host);
  } catch (e) {
    throw new Error(
      `the nodes cannot connect to the broker at ${url}: its name ${at.host}: ${lookupFailure(e)}`,
    );
  }
  const addresses = [...new Set(found)];
  if (addresses.length === 0)
    throw new Error(`the nodes cannot connect to the broker at ${url}: its name ${at.host} has no address`);
  return { ...at, addresses };
}

/** `a:port and b:port`, an IPv6 address in brackets. */
export function addressesText(addresses: readonly string[], port: number): string {
  return addresses.map((a) => (a.includes(":") ? `[${a}]:${port}` : `${a}:${port}`)).join(" and ");
}

/** The line saying where the nodes connect, for a host name; undefined for an address. */
export function pinnedLine(at: NodeBrokerAt): string | undefined {
  if (at.addresses === undefined) return undefined;
  return `the nodes connect to the broker at ${addressesText(at.addresses, at.port)}, what ${at.host} names now, and look the name up no more, as boards given the broker's address (TF_BROKER_IP); a broker moved under the name is not followed`;
}

/**
 * Where the nodes connect, for a run's start line: `, nodes connect to 127.0.0.2:1883 (tf-broker)`
 * for a host name (said before at --log-level debug alone); nothing for an address or none.
 */
export function nodesAtWords(at: NodeBrokerAt | undefined): string {
  if (at?.addresses === undefined) return "";
  return `, nodes connect to ${addressesText(at.addresses, at.port)} (${at.host})`;
}

const key = (addresses: readonly string[]) => [...new Set(addresses)].sort().join(" ");

/**
 * The report's `brokerMoved`: the nodes' broker name named other addresses mid-run than they
 * connect to; each change, `atMs` from the start of the presses. Absent when it did not.
 */
export interface BrokerMovedReport {
  readonly host: string;
  /** Where the nodes connected all run: what the name named at its start, `address:port`. */
  readonly nodesAt: readonly string[];
  readonly moves: readonly { readonly atMs: number; readonly names: readonly string[] }[];
}

/**
 * Looks the nodes' broker name up again each time one of `sources` is back after a loss, and every
 * `periodMs` once started with `every` (a lookup still under way then is not doubled: a hung resolver
 * holds one), and tells (`tell`) a name that names other addresses than the nodes connect to, once
 * per change, and once when it names theirs again. A lookup that fails is told once, at the first of
 * a run of failures, and only from the period's checks (a connection back says its own errors).
 */
export class BrokerMoveWatch {
  private told: string;
  /** Each change told, on the clock `now` reads. */
  private readonly moves: { at: number; names: readonly string[] }[] = [];
  /** The lookup under way, for a test to wait on. */
  checking: Promise<void> = Promise.resolve();
  private busy = false;
  /** A failed lookup told since the last one that answered. */
  private failTold = false;
  private timer: Timer | undefined;

  constructor(
    private readonly at: NodeBrokerAt & { readonly addresses: readonly string[] },
    sources: readonly (BrokerWatchable | undefined)[],
    private readonly tell: (line: string) => void,
    private readonly lookup: HostLookup = lookupAll,
    private readonly now: () => number = () => 0,
  ) {
    this.told = key(at.addresses);
    for (const source of sources)
      source?.on("broker", (connected) => {
        if (connected) this.queue(false);
      });
  }

  /** Looks the name up every `periodMs` on `sched` too, until stop(). */
  every(sched: Scheduler, periodMs: number = BROKER_NAME_CHECK_MS): this {
    this.timer?.cancel();
    this.timer = every(sched, periodMs, () => {
      if (!this.busy) this.queue(true);
    });
    return this;
  }

  /** Ends the period's checks (the run's end). */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private queue(period: boolean): void {
    this.busy = true;
    this.checking = this.checking
      .then(() => this.check(period))
      .finally(() => {
        this.busy = false;
      });
  }

  /** Watches `at`'s name, unless it is an address (nothing to watch). */
  static of(
    at: NodeBrokerAt,
    sources: readonly (BrokerWatchable | undefined)[],
    tell: (line: string) => void,
    lookup?: HostLookup,
    now?: () => number,
  ): BrokerMoveWatch | undefined {
    const { addresses } = at;
    return addresses === undefined
      ? undefined
      : new BrokerMoveWatch({ ...at, addresses }, sources, tell, lookup, now);
  }

  /** The report's `brokerMoved` (times from `pressStartMs`); undefined when the name never moved. */
  report(pressStartMs: number): BrokerMovedReport | undefined {
    if (this.moves.length === 0) return undefined;
    const { host, port, addresses } = this.at;
    const at = (list: readonly string[]) => addressesText(list, port).split(" and ");
    return {
      host,
      nodesAt: at(addresses),
      moves: this.moves.map((m) => ({
        atMs: Math.round((m.at - pressStartMs) * 10) / 10,
        names: at(m.names),
      })),
    };
  }

  private async check(period: boolean): Promise<void> {
    let found: readonly string[];
    try {
      found = await this.lookup(this.at.host);
    } catch (e) {
      if (period && !this.failTold)
        this.tell(
          `the broker's name ${this.at.host} could not be looked up again (${lookupFailure(e)}): a move is not seen until it can be; the nodes connect to ${addressesText(this.at.addresses, this.at.port)} still`,
        );
      this.failTold = true;
      return;
    }
    this.failTold = false;
    const now = key(found);
    if (now === "" || now === this.told) return;
    this.told = now;
    const { host, port, addresses } = this.at;
    this.moves.push({ at: this.now(), names: [...new Set(found)] });
    const theirs = addressesText(addresses, port);
    if (now === key(addresses)) {
      this.tell(`the broker's name ${host} names ${theirs} again, where the nodes connect`);
      return;
    }
    this.tell(
      `the broker's name ${host} now names ${addressesText([...new Set(found)], port)}, but the nodes still connect to ${theirs}, what it named when the run started, as boards given the broker's address do: they will not reach a broker moved there (start the run again to move them)`,
    );
  }
}

/**
 * Where a run's nodes connect for the broker at `url` (pinBrokerAddress), said once (`say.info`) for
 * a name, whose move is then watched over `sources` and, given the run's scheduler, every
 * BROKER_NAME_CHECK_MS on it, and told (`say.warn`). The caller stops the watch at the run's end.
 */
export async function nodesBrokerAt(
  url: string,
  sources: readonly (BrokerWatchable | undefined)[],
  say: { info(line: string): void; warn(line: string): void },
  lookup?: HostLookup,
  sched?: Scheduler,
  everyMs?: number,
): Promise<NodeBrokerAt & { readonly moves?: BrokerMoveWatch }> {
  const at = await pinBrokerAddress(url, lookup);
  const pinned = pinnedLine(at);
  if (pinned !== undefined) say.info(pinned);
  const now = sched === undefined ? undefined : () => sched.now();
  const moves = BrokerMoveWatch.of(at, sources, (line) => say.warn(line), lookup, now);
  if (sched !== undefined) moves?.every(sched, everyMs);
  return moves === undefined ? at : { ...at, moves };
}
