/**
 * The fleet's twins service behind one stable handle, so the console and the run keep their
 * listeners when the service is killed and started again (the twins-restart fault): calls go to the
 * current instance, its events are re-emitted, and while it is down the view is empty and commands
 * fail with a message that says why. Each start opens a new service on the same store. An event is
 * forwarded only while someone listens to it here, so the service can skip making what nobody reads
 * (a twin's view for each report, once the run has seen every node register).
 */
import { EventEmitter } from "node:events";
import type { NodeId } from "../protocol/index.js";
import type {
  ConvergenceReport,
  ForgetOutcome,
  PairingOutcome,
  Presence,
  Twin,
  Twins,
  TwinsEvents,
} from "../twins/index.js";
import { BAD_INPUT_REASONS, type BadInputReason, TwinsCommandError } from "../twins/index.js";

const NO_BAD_INPUT = Object.fromEntries(BAD_INPUT_REASONS.map((r) => [r, 0])) as Record<
  BadInputReason,
  number
>;

/** Every event of the service, re-emitted (a record, so that a new event cannot be left out). */
const FORWARDED: Readonly<Record<keyof TwinsEvents, true>> = {
  "twin-registered": true,
  "twin-updated": true,
  "state-replayed": true,
  "twin-online": true,
  "twin-offline": true,
  "broker-restarted": true,
  "member-lost": true,
  "twin-forgotten": true,
  "twin-silent-forgotten": true,
  "twin-flapping": true,
  "pairing-replaced": true,
  convergence: true,
  "bad-input": true,
  broker: true,
  "other-services": true,
  "put-back": true,
  "broker-dropped": true,
  "replay-cut": true,
};
const EVENTS = Object.keys(FORWARDED) as (keyof TwinsEvents)[];

const EMPTY_CONVERGENCE: ConvergenceReport = {
  fraction: 1,
  inSync: 0,
  known: 0,
  followers: [],
};

export class TwinsHost extends EventEmitter<TwinsEvents> implements Twins {
  private current: Twins | undefined;
  /** What stops forwarding each event from the current service, for the events forwarded now. */
  private readonly forwarding = new Map<keyof TwinsEvents, () => void>();
  /** A start under way: a second restart() meanwhile waits for it rather than opening another. */
  private starting: Promise<void> | undefined;
  private started = 0;

  private constructor(
    readonly prefix: Twins["prefix"],
    readonly clientId: string,
    /** Only watching a service that belongs to someone else: the run cannot restart it. */
    readonly passive: boolean,
    /**
     * Starts a service; `created` gets it before it connects (startTwins' second argument). `again`:
     * a restart, which waits for a broker that is away, as a restarted service unit would.
     */
    private readonly open: (created: (t: Twins) => void, again: boolean) => Promise<Twins>,
  ) {
    super();
    // The run, the console's view and its detail pane each listen to several events.
    this.setMaxListeners(32);
    // Told before a listener is added, and after one is removed.
    (this as EventEmitter).on("newListener", (name: string | symbol) => {
      if (isTwinsEvent(name)) this.forward(name);
    });
    (this as EventEmitter).on("removeListener", (name: string | symbol) => {
      if (isTwinsEvent(name) && this.listenerCount(name) === 0) this.unforward(name);
    });
  }

  /**
   * Starts the first service. `stop` aborted while it connects (up to its 10 s connect timeout on a
   * broker that accepts and never answers) closes it and rejects with the signal's reason once it is
   * closed: a run's SIGTERM then used to wait those 10 s, and ended as a failure to connect.
   */
  static async start(
    open: (created: (t: Twins) => void, again: boolean) => Promise<Twins>,
    stop?: AbortSignal,
  ): Promise<TwinsHost> {
    if (stop?.aborted) throw stop.reason;
    let opening: Twins | undefined;
    // Nobody listens to the host before it exists: the first service is attached once connected.
    const opened = open((t) => {
      opening = t;
      // Made after the stop (its store was loading): closed at once, which ends its connect.
      if (stop?.aborted) void t.close().catch(() => {});
    }, false);
    let aborted: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      aborted = () => {
        // The service lets go of its store (the data directory's lock) before the run ends: closed
        // now if it was made, else once its start has settled.
        const closed = opening !== undefined ? opening.close() : opened.then((t) => t.close());
        void closed.catch(() => {}).then(() => reject(stop?.reason));
      };
      stop?.addEventListener("abort", aborted);
    });
    // The connect the stop cut short ends later (its timer, or its closed socket): no news then.
    opened.catch(() => {});
    // A start that ended, or connected, once the stop came is the stop's: told once it is closed.
    const started = opened.then(
      (t) => (stop?.aborted ? stopped : t),
      (e: unknown) => (stop?.aborted ? stopped : Promise.reject(e)),
    );
    const first = await Promise.race([started, stopped]).finally(() => {
      if (aborted) stop?.removeEventListener("abort", aborted);
    });
    const host = new TwinsHost(first.prefix, first.clientId, first.passive, open);
    host.attach(first);
    return host;
  }

  /** The current service's: the first is connected once attached; one started again may wait for its broker. */
  get reached(): Promise<void> {
    return this.current?.reached ?? Promise.resolve();
  }

  get waiting(): Twins["waiting"] {
    return this.current?.waiting;
  }

  /**
   * The broker's restart the current service was told at its first connection (twins/api.ts): told
   * while it connected, before the host existed to forward its event, so a view opened over the host
   * (the console's, the page's) reads it here, as one over a standalone service does.
   */
  get restartAtStart(): Twins["restartAtStart"] {
    return this.current?.restartAtStart;
  }

  get lostCause(): string | undefined {
    return this.current?.lostCause;
  }

  get otherServices(): Twins["otherServices"] {
    return this.current?.otherServices ?? [];
  }

  keptSet(id: string): ReturnType<NonNullable<Twins["keptSet"]>> {
    return this.current?.keptSet?.(id);
  }

  get unsavedSince(): Twins["unsavedSince"] {
    return this.current?.unsavedSince;
  }

  get unsavedCause(): Twins["unsavedCause"] {
    return this.current?.unsavedCause;
  }

  get stalledSave(): Twins["stalledSave"] {
    return this.current?.stalledSave;
  }

  get stalledHistory(): Twins["stalledHistory"] {
    return this.current?.stalledHistory;
  }

  readonly historyUnwritten = () => this.current?.historyUnwritten?.();

  get fleetUnseen(): Twins["fleetUnseen"] {
    return this.current?.fleetUnseen;
  }

  otherPrefixes(): ReturnType<Twins["otherPrefixes"]> {
    return this.current?.otherPrefixes() ?? Promise.resolve(undefined);
  }

  /**
   * Which service this is: 1 for the first, one more for each started again. Each counts its twins'
   * versions from 0, so a view that shows versions (view/twins-source.ts) must not compare them
   * across services.
   */
  get generation(): number {
    return this.started;
  }

  /** Whether a service is running now (false between kill() and start()). */
  get up(): boolean {
    return this.current !== undefined;
  }

  /** Kills the service as `kill -9` would: no goodbye, nothing more saved. */
  async kill(): Promise<void> {
    const t = this.current;
    this.current = undefined;
    this.detachAll();
    await t?.kill();
  }

  /** Starts a new service on the same store. */
  async restart(): Promise<void> {
    if (this.current) return;
    // Two restarts at once start one service: the second waits for the first's.
    // Attached as soon as it exists, not once connected: the registrations, reports and presence
    // of its first seconds (retained messages, answers to its query) come while it connects.
    let created: Twins | undefined;
    this.starting ??= this.open((t) => {
      created = t;
      this.attach(t);
    }, true)
      .then((t) => {
        // An opener that does not report the service before it connects: attached now.
        if (created !== t) this.attach(t);
      })
      .catch((err: unknown) => {
        if (created !== undefined && this.current === created) {
          this.current = undefined;
          this.detachAll();
        }
        throw err;
      })
      .finally(() => {
        this.starting = undefined;
      });
    await this.starting;
  }

  list(): Twin[] {
    return this.current?.list() ?? [];
  }

  count(): number {
    return this.current?.count() ?? 0;
  }

  get(id: string): Twin | undefined {
    return this.current?.get(id);
  }

  presenceOf(id: NodeId): Presence | undefined {
    return this.current?.presenceOf(id);
  }

  set(id: string, on: boolean): Promise<number> {
    return this.live().set(id, on);
  }

  pair(follower: string, source: string): Promise<PairingOutcome> {
    return this.live().pair(follower, source);
  }

  unpair(follower: string, source: string): Promise<PairingOutcome> {
    return this.live().unpair(follower, source);
  }

  forget(id: string, opts?: { force?: boolean }): Promise<ForgetOutcome> {
    return this.live().forget(id, opts);
  }

  /** The changes made so far stored, by the service that answers (a view's command waits for it). */
  written(): Promise<string | undefined> {
    return this.current?.written?.() ?? Promise.resolve(undefined);
  }

  query(): Promise<void> {
    return this.live().query();
  }

  convergence(): ConvergenceReport {
    return this.current?.convergence() ?? EMPTY_CONVERGENCE;
  }

  history(): ReturnType<Twins["history"]> {
    return this.current?.history() ?? [];
  }

  minutes(): ReturnType<Twins["minutes"]> {
    return this.current?.minutes() ?? [];
  }

  badInput(): ReturnType<Twins["badInput"]> {
    return this.current?.badInput() ?? { total: 0, byReason: NO_BAD_INPUT };
  }

  badInputOf(id: string): number {
    return this.current?.badInputOf(id) ?? 0;
  }

  flush(): Promise<void> {
    return this.current?.flush() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    const t = this.current;
    this.current = undefined;
    this.detachAll();
    await t?.close();
  }

  private live(): Twins {
    if (!this.current) throw new TwinsCommandError("the twins service is restarting: try again in a moment");
    return this.current;
  }

  private attach(t: Twins): void {
    this.detachAll();
    this.current = t;
    this.started++;
    for (const name of EVENTS) if (this.listenerCount(name) > 0) this.forward(name);
  }

  private detachAll(): void {
    for (const off of this.forwarding.values()) off();
    this.forwarding.clear();
  }

  /** Re-emits `name` from the current service here, if it is not already. */
  private forward(name: keyof TwinsEvents): void {
    const from = this.current;
    if (from === undefined || this.forwarding.has(name)) return;
    const src: EventEmitter = from;
    const f = (...args: unknown[]) => (this as EventEmitter).emit(name, ...args);
    src.on(name, f);
    this.forwarding.set(name, () => src.off(name, f));
  }

  private unforward(name: keyof TwinsEvents): void {
    this.forwarding.get(name)?.();
    this.forwarding.delete(name);
  }
}

function isTwinsEvent(name: string | symbol): name is keyof TwinsEvents {
  return (EVENTS as readonly (string | symbol)[]).includes(name);
}
