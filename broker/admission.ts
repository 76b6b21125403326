/**
 * Who may open a connection and try a password: per source address, a connection rate (token
 * bucket) and a cap on connections not yet past CONNECT; per address and per username, a count of
 * failed logins in a sliding window that bans the key for a while, longer on each repeat (like EMQX's
 * flapping detection, but counting failed logins, not connections). A ban or a throttle is logged
 * once, when it starts; the attempts it refuses are not logged one by one. Time comes from an
 * injected clock. An "address" is what broker/address-key.ts makes of the socket's (an IPv6 /64); a
 * host within it that has logged in gets past a ban of it, until its own failures ban it.
 */
import type { Logger } from "pino";

export interface AdmissionLimits {
  /** Connections per second one address may open, on average. */
  readonly connectionRatePerAddress: number;
  /** Connections one address may open at once before the rate applies. */
  readonly connectionBurstPerAddress: number;
  /** Connections of one address accepted but not yet past CONNECT (or closed). */
  readonly maxPendingPerAddress: number;
  /** Failed logins from one address within the window that ban it. */
  readonly loginFailuresPerAddress: number;
  /** Failed logins for one username within the window that ban it (except where it logged in before). */
  readonly loginFailuresPerUsername: number;
  readonly loginFailureWindowMs: number;
  /** First ban; each further ban of the same key within a day doubles it, up to 64 ×. */
  readonly banMs: number;
}

/** Why a connection or a login is refused without being looked at further. */
export type Refusal =
  | { readonly kind: "address-banned"; readonly until: number }
  | { readonly kind: "username-banned"; readonly until: number }
  | { readonly kind: "rate" }
  | { readonly kind: "pending" };

/** Keys tracked at most, per kind; the least recently seen is forgotten first. */
const MAX_TRACKED = 10_000;
/** How long a key's ban history counts towards doubling the next ban. */
const STRIKE_MEMORY_MS = 24 * 60 * 60 * 1000;
const MAX_BAN_DOUBLINGS = 6;
/** Addresses remembered per username as ones it logged in from. */
const MAX_KNOWN_ADDRESSES = 8;

interface FailureRecord {
  /** Times of the failures within the window, oldest first. */
  failures: number[];
  bannedUntil: number;
  strikes: number;
  lastBanAt: number;
}

interface AddressState {
  tokens: number;
  refilledAt: number;
  pending: number;
  /** A throttle episode is under way: logged once when it starts. */
  throttled: boolean;
}

/** A Map that forgets its least recently touched entries beyond `max`. */
class Recent<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  get size(): number {
    return this.#map.size;
  }
}

/** One accepted connection's place in its address's pending count; settle() once it leaves. */
export interface PendingTicket {
  settle(): void;
}

export class Admission {
  readonly #addresses = new Recent<AddressState>(MAX_TRACKED);
  readonly #addressFailures = new Recent<FailureRecord>(MAX_TRACKED);
  readonly #usernameFailures = new Recent<FailureRecord>(MAX_TRACKED);
  readonly #knownAddresses = new Recent<string[]>(MAX_TRACKED);
  /** Failed logins per host within a counted prefix (an IPv6 address of its /64): its own ban. */
  readonly #hostFailures = new Recent<FailureRecord>(MAX_TRACKED);
  /** Hosts within a counted prefix that have logged in: a ban of their prefix lets them in. */
  readonly #loggedIn = new Recent<true>(MAX_TRACKED);

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * A new connection from `address` (what the limits count: an IPv4 address, an IPv6 /64), from
   * `host` within it (the socket's own address): a ticket to settle when it is past CONNECT or
   * closed, or why it is to be closed at once (nothing read, nothing hashed).
   */
  accept(address: string, host = address): PendingTicket | Refusal {
    const now = this.now();
    const banned = this.#addressBan(address, host, now);
    if (banned !== undefined) return { kind: "address-banned", until: banned };
    let state = this.#addresses.get(address);
    if (state === undefined) {
      state = {
        tokens: this.limits.connectionBurstPerAddress,
        refilledAt: now,
        pending: 0,
        throttled: false,
      };
      this.#addresses.set(address, state);
    }
    const refill = ((now - state.refilledAt) / 1000) * this.limits.connectionRatePerAddress;
    state.tokens = Math.min(this.limits.connectionBurstPerAddress, state.tokens + refill);
    state.refilledAt = now;
    const refusal: Refusal | undefined =
      state.tokens < 1
        ? { kind: "rate" }
        : state.pending >= this.limits.maxPendingPerAddress
          ? { kind: "pending" }
          : undefined;
    if (refusal !== undefined) {
      if (!state.throttled) {
        state.throttled = true;
        this.logger.warn(
          refusal.kind === "rate"
            ? {
                address,
                limit: this.limits.connectionRatePerAddress,
                burst: this.limits.connectionBurstPerAddress,
              }
            : { address, limit: this.limits.maxPendingPerAddress },
          refusal.kind === "rate"
            ? "connections refused: address over its connection rate"
            : "connections refused: address has too many connections before CONNECT",
        );
      }
      return refusal;
    }
    if (state.throttled) {
      state.throttled = false;
      this.logger.info({ address }, "address accepted again");
    }
    state.tokens -= 1;
    state.pending += 1;
    const owner = state;
    let settled = false;
    return {
      settle: () => {
        if (settled) return;
        settled = true;
        owner.pending -= 1;
      },
    };
  }

  /** Whether a login from `address` as `username` is refused before its password is checked. */
  loginRefusal(address: string, username: string | undefined, host = address): Refusal | undefined {
    const now = this.now();
    const addressBan = this.#addressBan(address, host, now);
    if (addressBan !== undefined) return { kind: "address-banned", until: addressBan };
    if (username === undefined || this.#knownAddresses.get(username)?.includes(address)) return undefined;
    const userBan = this.#banned(this.#usernameFailures, username, now);
    return userBan === undefined ? undefined : { kind: "username-banned", until: userBan };
  }

  /** The outcome of a password check (not of a login refused by a ban). */
  recordLogin(address: string, username: string | undefined, ok: boolean, host = address): void {
    if (ok) {
      if (host !== address) this.#loggedIn.set(host, true);
      if (username !== undefined) {
        const known = this.#knownAddresses.get(username) ?? [];
        if (!known.includes(address)) {
          known.push(address);
          if (known.length > MAX_KNOWN_ADDRESSES) known.shift();
        }
        this.#knownAddresses.set(username, known);
      }
      return;
    }
    const now = this.now();
    this.#fail(this.#addressFailures, address, this.limits.loginFailuresPerAddress, now, "address");
    if (host !== address)
      this.#fail(this.#hostFailures, host, this.limits.loginFailuresPerAddress, now, "address");
    if (username !== undefined) {
      this.#fail(this.#usernameFailures, username, this.limits.loginFailuresPerUsername, now, "username");
    }
  }

  /**
   * Until when `address` bans `host`: a host's own ban; else its prefix's, unless the host has logged
   * in before (one client of a LAN /64 with a wrong password does not lock out the others that
   * logged in, while the addresses it makes up are refused).
   */
  #addressBan(address: string, host: string, now: number): number | undefined {
    if (host !== address) {
      const own = this.#banned(this.#hostFailures, host, now);
      if (own !== undefined || this.#loggedIn.get(host) !== undefined) return own;
    }
    return this.#banned(this.#addressFailures, address, now);
  }

  #banned(table: Recent<FailureRecord>, key: string, now: number): number | undefined {
    const record = table.get(key);
    return record !== undefined && record.bannedUntil > now ? record.bannedUntil : undefined;
  }

  #fail(table: Recent<FailureRecord>, key: string, limit: number, now: number, kind: string): void {
    let record = table.get(key);
    if (record === undefined) {
      record = { failures: [], bannedUntil: 0, strikes: 0, lastBanAt: -Infinity };
      table.set(key, record);
    }
    if (record.bannedUntil > now) return;
    const since = now - this.limits.loginFailureWindowMs;
    while (record.failures.length > 0 && (record.failures[0] ?? 0) <= since) record.failures.shift();
    record.failures.push(now);
    if (record.failures.length < limit) return;
    if (now - record.lastBanAt > STRIKE_MEMORY_MS) record.strikes = 0;
    const banMs = this.limits.banMs * 2 ** Math.min(record.strikes, MAX_BAN_DOUBLINGS);
    record.strikes += 1;
    record.lastBanAt = now;
    record.bannedUntil = now + banMs;
    record.failures = [];
    this.logger.warn(
      { [kind]: key, failures: limit, windowMs: this.limits.loginFailureWindowMs, banMs },
      `${kind} banned: too many failed logins`,
    );
  }
}

export function isRefusal(v: PendingTicket | Refusal): v is Refusal {
  return "kind" in v;
}
