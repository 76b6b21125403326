/**
 * Persistent sessions that expire (`--session-expiry`), as Mosquitto's
 * `persistent_client_expiration` does: MQTT 3.1.1 keeps a session (clean session 0) until its
 * client comes back with a clean one, so a tool that subscribed once with a persistent session and
 * was then retired kept its subscriptions, and every QoS 1/2 message they matched was stored for it
 * (up to --max-queued-messages each), for ever — and took one of the --max-sessions places.
 *
 * A session is away from its client's disconnect (or, for one the store held when the broker
 * started with no time of its own, from that start); once away longer than the expiry its
 * subscriptions, queued messages and inbound QoS 2 state are dropped, as a clean connect by its
 * client would, and the client is then a stranger: its next connect gets Session Present 0. A
 * connected client's session never expires. The times are dates (ms since the Unix epoch), kept in
 * the store beside the sessions (with `--data`, so a restart neither forgets nor restarts them),
 * and refreshed for the connected clients at every check, so a broker killed with -9 loses at most
 * one check's worth (a minute at most).
 *
 * While the broker runs, time away is measured on the scheduler's `now()`, which a step of the
 * host's clock does not move: a board that booted in 1970 and was set by NTP minutes later, or a
 * clock put back an hour, neither expires every session at once nor holds them all. The stored dates
 * are the host's date less the time away, written again on the new clock after a step, so a restart
 * on the set clock counts on from where it was; a stored date later than the host's (the clock was
 * put back, or is wrong at boot) counts as away from the start.
 */
import type { Logger } from "pino";
import { CLOCK_STEP_MS, every, RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";

/** What of the store expiry reads and writes (broker/memory-store.ts, broker/level-store.ts). */
export interface ExpiringStore {
  /** Client ids holding stored subscriptions (the sessions --max-sessions counts). */
  sessionIds(): Promise<readonly string[]>;
  /** When each session's client was last seen, as stored (dates in ms). */
  loadSeen(): Promise<ReadonlyMap<string, number>>;
  /** Stores (or, with undefined, forgets) when a session's client was last seen. */
  saveSeen(clientId: string, at: number | undefined): Promise<void>;
  /** Drops the messages queued for a session (sent or not); how many there were. */
  dropQueue(clientId: string): Promise<number>;
  subscriptionsByClient(client: { readonly id: string }): Promise<readonly unknown[]>;
  cleanSubscriptions(client: { readonly id: string }): Promise<void>;
  cleanIncoming(client: { readonly id: string }): Promise<void>;
  /** Queued messages or inbound QoS 2 state (broker/memory-store.ts, level-store.ts). */
  hasSessionState(client: { readonly id: string }): Promise<boolean>;
}

/** What of aedes this watches: who is connected, and persistent clients coming and going. */
export interface SessionClients {
  readonly clients: Readonly<Record<string, unknown>>;
  on(event: "client" | "clientDisconnect", fn: (client: { id: string; clean: boolean }) => void): unknown;
}

/** The longest time between two checks. */
const MAX_CHECK_MS = 60_000;

function checkEveryMs(expiryMs: number): number {
  return Math.max(1, Math.min(MAX_CHECK_MS, Math.floor(expiryMs / 4)));
}

export class SessionExpiry {
  /** When each session's client was last seen, on the scheduler's `now()`. */
  readonly #seen = new Map<string, number>();
  /** `wallNow() - now()` at the last check: it changes when the host's clock steps. */
  #dateOffset = 0;
  #timer: Timer | undefined;
  #checking: Promise<void> = Promise.resolve();
  readonly #saves = new Set<Promise<void>>();
  #stopped = false;

  constructor(
    private readonly store: ExpiringStore,
    private readonly aedes: SessionClients,
    private readonly expiryMs: number,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly onExpired: () => void = () => {},
  ) {}

  /** Reads the stored times, gives the sessions with none the time now, and starts checking. */
  async start(): Promise<void> {
    const now = this.scheduler.now();
    this.#dateOffset = this.scheduler.wallNow() - now;
    const stored = await this.store.loadSeen();
    const ids = new Set(await this.store.sessionIds());
    let ahead = 0;
    for (const id of ids) {
      const date = stored.get(id);
      // A date to come: the clock was put back since, or is wrong now. Away from now, not held for ever.
      if (date !== undefined && date > now + this.#dateOffset + CLOCK_STEP_MS) ahead++;
      const at = date === undefined ? now : Math.min(now, date - this.#dateOffset);
      this.#seen.set(id, at);
      if (date === undefined) await this.store.saveSeen(id, this.#date(at));
    }
    if (ahead > 0)
      this.logger.warn(
        { sessions: ahead, now: new Date(now + this.#dateOffset).toISOString() },
        "persistent session expiry: sessions stored as away since a date later than the host's clock (put back since, or wrong now?) are counted as away from now",
      );
    // A time kept for a session no longer held (cleared while its time was being written) is forgotten.
    for (const id of stored.keys()) if (!ids.has(id)) await this.store.saveSeen(id, undefined);
    this.aedes.on("client", (client) => this.#noted(client.id, client.clean, false));
    this.aedes.on("clientDisconnect", (client) => this.#noted(client.id, client.clean, true));
    this.#timer = every(this.scheduler, checkEveryMs(this.expiryMs), () => {
      this.#checking = this.#checking
        .then(() => this.check())
        .catch((err: unknown) => {
          this.logger.error({ err }, "persistent session expiry: the store could not be read or written");
        });
    });
  }

  /**
   * A client connected or left. A clean one holds no session. A persistent one's session is seen
   * now — kept only while it holds something (subscriptions, queued messages, QoS 2 state): a client
   * that made a persistent session and left it empty leaves nothing to expire, and made-up ids that
   * connect that way leave no time behind either. A session begun this run is kept from its
   * client's leaving; one its client comes back to, from then on.
   */
  #noted(clientId: string, clean: boolean, leaving: boolean): void {
    if (this.#stopped) return;
    if (clean) {
      if (this.#seen.delete(clientId)) void this.#save(clientId, undefined);
      return;
    }
    const now = this.scheduler.now();
    if (!leaving) {
      if (!this.#seen.has(clientId)) return;
      this.#seen.set(clientId, now);
      void this.#save(clientId, now);
      return;
    }
    this.#seen.set(clientId, now);
    const kept = this.#holds(clientId).then((holds) => {
      if (holds || this.#seen.get(clientId) !== now) return this.#save(clientId, now);
      this.#seen.delete(clientId);
      return this.#save(clientId, undefined);
    });
    this.#track(kept);
  }

  async #holds(clientId: string): Promise<boolean> {
    try {
      const client = { id: clientId };
      return (
        (await this.store.subscriptionsByClient(client)).length > 0 ||
        (await this.store.hasSessionState(client))
      );
    } catch {
      return true;
    }
  }

  #track(p: Promise<void>): void {
    this.#saves.add(p);
    void p.then(() => this.#saves.delete(p));
  }

  /** The date (ms since the Unix epoch) of `at` on `now()`, by the host's clock now. */
  #date(at: number): number {
    return Math.round(at + this.scheduler.wallNow() - this.scheduler.now());
  }

  /** Stores a time (on `now()`) as its date; the broker's close waits for the saves under way (finish()). */
  #save(clientId: string, at: number | undefined): Promise<void> {
    const date = at === undefined ? undefined : this.#date(at);
    const save = this.store.saveSeen(clientId, date).catch((err: unknown) => {
      this.logger.warn({ err, clientId }, "persistent session expiry: a session's time could not be stored");
    });
    this.#track(save);
    return save;
  }

  /** Drops the sessions away longer than the expiry; the connected clients' are seen now. */
  async check(): Promise<void> {
    const now = this.scheduler.now();
    const offset = this.scheduler.wallNow() - now;
    // The host's clock stepped: the away sessions' dates are written again on its new clock.
    const stepped = Math.abs(offset - this.#dateOffset) >= CLOCK_STEP_MS;
    if (stepped) {
      this.logger.info(
        { steppedMs: Math.round(offset - this.#dateOffset), sessions: this.#seen.size },
        "persistent session expiry: the host's clock was stepped; time away is counted on as before, and the sessions' stored dates are moved to the new clock",
      );
      this.#dateOffset = offset;
    }
    for (const [id, at] of [...this.#seen]) {
      if (this.aedes.clients[id] !== undefined) {
        this.#seen.set(id, now);
        await this.store.saveSeen(id, this.#date(now));
        continue;
      }
      if (stepped) await this.store.saveSeen(id, this.#date(at));
      if (now - at < this.expiryMs) continue;
      // Still away and not come back meanwhile (a connect sets a newer time).
      const dropped = await this.#drop(id);
      if (this.aedes.clients[id] !== undefined || this.#seen.get(id) !== at) continue;
      this.#seen.delete(id);
      await this.store.saveSeen(id, undefined);
      if (dropped.subscriptions === 0 && dropped.queued === 0) continue;
      this.onExpired();
      this.logger.info(
        { clientId: id, awaySince: new Date(this.#date(at)).toISOString(), ...dropped },
        "persistent session expired: its subscriptions and queued messages are dropped (--session-expiry)",
      );
    }
  }

  /** Drops what a session holds, as a clean connect by its client would (aedes's handlers/connect.js). */
  async #drop(clientId: string): Promise<{ subscriptions: number; queued: number }> {
    const client = { id: clientId };
    const subscriptions = (await this.store.subscriptionsByClient(client)).length;
    await this.store.cleanSubscriptions(client);
    await this.store.cleanIncoming(client);
    return { subscriptions, queued: await this.store.dropQueue(clientId) };
  }

  /** Stops at once (the broker is killed): what is not stored is lost, as with kill -9. */
  cancel(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** Stops checking (the broker is closing); waits for a check and the times being stored. */
  async finish(): Promise<void> {
    this.#timer?.cancel();
    // The clients' leaving as the broker closed is being stored; nothing after it.
    this.#stopped = true;
    await this.#checking;
    await Promise.all([...this.#saves]);
  }
}

/** Starts expiry on a broker given `sessionExpiryMs` (on the wall clock unless given a scheduler). */
export async function expireSessions(
  store: unknown,
  aedes: unknown,
  opts: { readonly sessionExpiryMs?: number; readonly scheduler?: Scheduler },
  logger: Logger,
  onExpired: () => void,
): Promise<SessionExpiry | undefined> {
  if (opts.sessionExpiryMs === undefined) {
    await forgetTimes(store as Partial<ExpiringStore>, logger);
    return undefined;
  }
  const expiry = new SessionExpiry(
    store as ExpiringStore,
    aedes as SessionClients,
    opts.sessionExpiryMs,
    opts.scheduler ?? RealScheduler.epoch(),
    logger,
    onExpired,
  );
  await expiry.start();
  return expiry;
}

/**
 * A broker without expiry keeps no session's time current: a client back and gone again meanwhile
 * left the time of its earlier leaving in the store, and a later start with `--session-expiry`
 * counted its session away from then, dropping it and its queue at the first check. So the stored
 * times are forgotten, and such a start counts every session as away from itself (docs/broker.md).
 */
async function forgetTimes(store: Partial<ExpiringStore>, logger: Logger): Promise<void> {
  // A Redis store keeps none (--session-expiry is refused with it).
  if (store.loadSeen === undefined || store.saveSeen === undefined) return;
  const stored = await store.loadSeen();
  for (const id of stored.keys()) await store.saveSeen(id, undefined);
  if (stored.size > 0)
    logger.info(
      { sessions: stored.size },
      "persistent session expiry is off (no --session-expiry): the sessions' times kept by an earlier run are forgotten; with it again, they are away from that start",
    );
}
