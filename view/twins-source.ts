/**
 * A live fleet as a ConsoleSource (`twinfleet monitor --broker URL`), on top of the twins service:
 * nodes and convergence from its registry, set / pair / unpair / query through its commands (their
 * answers mapped by view/twins-commands.ts: the broker away is a refusal or a deferred pairing). A real
 * fleet has no loss knob, button or power switch the console could reach, so those are not offered.
 * Sync latency is what the twins can observe: from the origin's own report of an event to each
 * follower's report of the same stamp, on the service's clock: the scheduler the service runs on
 * (default the twins' own `wallScheduler`), whose `wallNow()` dates the node's last messages.
 */
import type { NodeId } from "../protocol/index.js";
import {
  type ConvergenceReport,
  flapLine,
  type PairingOutcome,
  replacedLine,
  type Scheduler,
  shownShare,
  type Twin,
  type Twins,
  type TwinsEvents,
  wallScheduler,
} from "../twins/index.js";
import { ConsoleEmitter, EARLY_LOG_LINES } from "./emitter.js";
import { LastMessages } from "./last-messages.js";
import { LatencyWindow, ReportTiming } from "./latency.js";
import { droppedLine, historyHealth, LiveFaults, memberLostLine, restartLine } from "./live-faults.js";
import { LogBursts } from "./log-bursts.js";
import { detailOf, identityOf, NodeList, waitsOf } from "./node-list.js";
import { NodeSync } from "./node-sync.js";
import { OnlineFollowers } from "./online-followers.js";
import { ShownVersions } from "./shown-versions.js";
import {
  type Capabilities,
  type CommandDeferred,
  CommandRefused,
  type ConsoleEvents,
  type ConsoleFault,
  type ConsoleNode,
  type ConsoleSource,
  type ConvergenceSnapshot,
  type ForgetDone,
  type LatencySnapshot,
  type Listener,
  type LogLevel,
  NO_CAPABILITIES,
  type NodeDetail,
  unsupported,
} from "./source.js";
import { PendingPairings, refused, stored } from "./twins-commands.js";

/** Every event but a state that stood unchanged (`twin-updated` tells one that changed; the log counts them), a `--forget-after` retirement (shown by its `twin-forgotten`), and a cut replay (the service's log tells it). */
type ShownEvent = Exclude<keyof TwinsEvents, "state-replayed" | "twin-silent-forgotten" | "replay-cut">;

type Asked = "list" | "get" | "presenceOf" | "set" | "pair" | "unpair" | "query" | "convergence";
type Told = "lostCause" | "restartAtStart" | "unsavedCause" | "historyUnwritten"; // optional on Twins too
/** What the console needs of the twins service (its `Twins` satisfies it). */
export interface TwinsView extends Pick<Twins, Asked | Told | "history" | "badInputOf"> {
  /** The set a present twins service keeps for a node away (`Twins.keptSet`): its `set waits`. */
  readonly keptSet?: Twins["keptSet"];
  /** Retires a node (`Twins.forget`); absent on a view that cannot. */
  readonly forget?: Twins["forget"];
  /** Not reached yet (`waitForBroker`: `Twins.waiting`); lost: why its reconnects fail (`Twins.lostCause`). */
  readonly waiting?: Twins["waiting"];
  readonly minutes?: Twins["minutes"]; // the convergence history's long tier (twins/minute-tier.ts)
  readonly away?: Twins["away"]; // the broker's outages, those before a restart kept (twins/broker-spans.ts)
  /** Since when, where and why its desired state could not be saved; no node seen (`Twins.unsavedSince`, …). */
  readonly unsavedSince?: Twins["unsavedSince"];
  readonly fleetUnseen?: Twins["fleetUnseen"];
  /** Resolves once the changes made so far are stored (`Twins.written`): a command is answered then. */
  readonly written?: Twins["written"];
  /** Which service answers, where one can be started again (fleet/twins-host.ts). */
  readonly generation?: number;
  on<K extends keyof TwinsEvents>(event: K, listener: (...args: TwinsEvents[K]) => void): unknown;
  off<K extends keyof TwinsEvents>(event: K, listener: (...args: TwinsEvents[K]) => void): unknown;
}

export class TwinsSource implements ConsoleSource {
  readonly capabilities: Capabilities = {
    ...NO_CAPABILITIES,
    set: true,
    pair: true,
    unpair: true,
    query: true,
  };
  private readonly events = new ConsoleEmitter(EARLY_LOG_LINES);
  private readonly latencies = new LatencyWindow();
  private readonly timing = new ReportTiming(this.latencies, (id) => this.twins.get(id));
  private readonly messages = new LastMessages();
  private focused: NodeId | undefined;
  /** The broker while lost (the service reconnects by itself) and the nodes told as flapping. */
  private readonly live = new LiveFaults();
  private readonly pendingPairs = new PendingPairings();
  // Presence alone: a twin's view (`get`) copies its lists, and this asks it of every follower.
  private readonly judged = new OnlineFollowers((id) => this.twins.presenceOf(id));
  /**
   * The nodes in id order, kept from the service's events one twin at a time (a change costs one
   * summary, not a pass over the fleet); sync from its convergence reports (coalesced).
   */
  private readonly listed = new NodeList();
  private built = false;
  /** Sync from the convergence reports, carried in when the view is read (view/node-sync.ts). */
  private readonly sync = new NodeSync();
  private readonly versions = new ShownVersions();
  private readonly detach: () => void;
  /** Nodes coming and going by the hundred: one line for the rest of a burst (view/log-bursts.ts). */
  private readonly bursts: LogBursts;

  /**
   * `origin`: the time on `sched` the fleet started, for registration times (default: now, when
   * the view opens). `timeLatency`: time deliveries from the reports (default); a view with a better
   * source of latency (a fleet run's checker) turns it off.
   */
  constructor(
    private readonly twins: TwinsView,
    readonly title: string,
    private readonly sched: Scheduler = wallScheduler,
    private readonly origin = sched.now(),
    private readonly timeLatency = true,
  ) {
    this.bursts = new LogBursts(sched, this.events, () => this.nodes());
    const changed = (t?: Twin) => {
      if (t) this.update(t);
      for (const line of this.pendingPairs.changed(t)) this.log(line.level, line.text);
      this.events.emit("changed");
    };
    const handlers: { [K in ShownEvent]: (...a: TwinsEvents[K]) => void } = {
      "twin-registered": (t, first) => {
        const text = `${t.id} registered (${t.kind ?? "?"} ${t.profile ?? ""})`;
        if (first) this.bursts.node("registered", t.id, { level: "info", text });
        changed(t);
      },
      "twin-updated": (t, change, replayed) => {
        if (this.timeLatency) this.timing.updated(t, change, this.sched.now(), replayed);
        if (t.id === this.focused) this.messages.remember(t, change, this.sched.wallNow());
        if (change === "presence" || change === "register") this.judged.moved();
        changed(t);
      },
      "twin-online": (t) => {
        this.bursts.node("online", t.id, { level: "info", text: `${t.id} online` });
        changed(t);
      },
      "twin-forgotten": (id, why) => {
        const room = `${id} forgotten to make room (--max-nodes): offline, nothing desired, no pairing`;
        if (why === "retired") this.log("info", `${id} forgotten (retired): its retained messages cleared`);
        else this.log("warn", room);
        this.remove(id);
        this.events.emit("changed");
      },
      "broker-restarted": (nodes, how, before) => {
        this.log(nodes.length > 0 || before ? "warn" : "info", restartLine(nodes, how, before));
        changed();
      },
      "member-lost": (member, nodes) => {
        this.bursts.flush();
        this.log(nodes.length > 0 ? "warn" : "info", memberLostLine(member, nodes));
        changed();
      },
      "twin-offline": (t) => {
        this.bursts.node("offline", t.id, { level: "warn", text: `${t.id} offline` });
        changed(t);
      },
      convergence: (report) => {
        this.sync.received(report);
        this.judged.moved();
        changed();
      },
      "twin-flapping": (t, withinMs) => {
        this.live.flapped(t.id, this.sched.now());
        this.log("warn", flapLine(t.id, withinMs));
        changed();
      },
      "pairing-replaced": (t, was, others, fromStore) => {
        const line = replacedLine(t, was, others, fromStore);
        this.log(line.level, line.text);
      },
      "bad-input": (b) => this.log("warn", `bad input (${b.reason}) on ${b.topic}: ${b.detail}`),
      "other-services": (services) => {
        const line = this.live.othersTold(services, this.sched.now());
        this.log(line.level, line.text);
        changed();
      },
      "broker-dropped": (what, n) => this.log("warn", droppedLine(what, n)),
      "put-back": (n) => this.log("info", `the broker no longer held ${n} nodes' reports: put back`),
      broker: (up, lastHeardAt, how, stall) => {
        const known = how === "unreached" ? twins.list().length : undefined;
        const told = { lastHeardAt, how, stall, ...(known === undefined ? {} : { known }) };
        const line = this.live.brokerTold(up, this.sched.now(), told, twins.waiting);
        this.log(line.level, line.text);
        changed();
      },
    };
    // Told before this view opened: a service waiting for its broker; its broker's restart at the start.
    if (twins.waiting !== undefined) this.live.broker(false, twins.waiting.since, undefined, "unreached");
    const first = twins.restartAtStart;
    if (first !== undefined) this.log("warn", restartLine(first.unheard, first.how, true));
    const names = Object.keys(handlers) as (keyof typeof handlers)[];
    for (const name of names) twins.on(name, handlers[name] as (...a: unknown[]) => void);
    this.detach = () => {
      for (const name of names) twins.off(name, handlers[name] as (...a: unknown[]) => void);
    };
  }

  /** Stops listening to the service (the service itself belongs to the caller). */
  close(): void {
    this.detach();
    this.bursts.flush();
  }

  now(): number {
    return this.sched.now();
  }

  nodes(): readonly ConsoleNode[] {
    this.build();
    this.settle();
    return this.listed.all();
  }

  node(id: NodeId): ConsoleNode | undefined {
    this.build();
    this.settle();
    return this.listed.get(id);
  }

  /**
   * Carries the latest convergence report into the nodes' sync, telling the nodes whose sync moved
   * (`node` events): done when the view is read, so once per reader's frame, not once per report.
   */
  settle(): void {
    const moved = this.sync.settle();
    if (moved === undefined || !this.built) return;
    for (const id of moved) {
      const n = this.listed.get(id);
      if (!n) continue;
      this.listed.put({ ...n, sync: this.sync.of(id) });
      this.events.emit("node", id);
    }
  }

  detail(id: NodeId): NodeDetail | undefined {
    const t = this.twins.get(id);
    const node = this.node(id);
    if (!t || !node) return undefined;
    return detailOf(t, node, {
      identity: identityOf(t, this.twins.badInputOf(id)),
      ...(id === this.focused ? { lastMessages: this.messages.all() } : {}),
      origin: this.origin,
      sched: this.sched,
      kept: this.twins.keptSet?.(id),
    });
  }

  focus(id: NodeId | undefined): void {
    if (id !== this.focused) this.messages.clear();
    this.focused = id;
  }

  convergence(): ConvergenceSnapshot {
    this.build();
    this.settle();
    const report = this.sync.report as ConvergenceReport;
    const history = this.twins.history();
    return {
      ...shownShare(report, history),
      ...this.judged.of(report),
      history,
      away: this.twins.away?.() ?? this.live.away(),
    };
  }

  readonly minutes = () => this.twins.minutes?.() ?? [];
  latency(): LatencySnapshot {
    return this.latencies.snapshot();
  }

  readonly lossPct = (): undefined => undefined;

  /** A live fleet's faults are the world's, not injected (view/live-faults.ts). */
  faults(): readonly ConsoleFault[] {
    const faults = this.live.list(this.sched.now());
    const since = this.twins.unsavedSince; // on the service's own clock, as the other faults are
    if (since !== undefined)
      faults.push({ what: "desired state not saved (disk full or read-only?)", since });
    if (this.twins.fleetUnseen !== undefined) faults.push(this.twins.fleetUnseen);
    return faults;
  }

  /** Whether the changes so far are stored (`Twins.written`): the web API answers a write not stored 507. */
  readonly written = (): Promise<string | undefined> => this.twins.written?.() ?? Promise.resolve(undefined);
  /** Why what is shown is not current, or changes are not kept, for `/healthz` (view/live-faults.ts). */
  health(): string | undefined {
    return this.live.health(this.sched.now(), this.twins);
  }
  /** What is current but not kept, for `/healthz`'s 200: the convergence history unwritten. */
  readonly degraded = (): string[] => historyHealth(this.sched.now(), this.twins.historyUnwritten?.());

  async set(id: NodeId, on: boolean): Promise<CommandDeferred | undefined> {
    const presence = this.twins.get(id)?.presence ?? "unknown";
    const counter = await refused(stored(this.twins, this.twins.set(id, on)));
    const what = `${id} set ${on ? "on" : "off"} (counter ${counter})`;
    if (presence === "online") {
      this.log("info", what);
      return undefined;
    }
    // Sent to no one (clean sessions queue nothing): kept, and sent when it registers (hours later?): said.
    const deferred = `${id} is ${presence}: the set is kept and sent when it registers again (a later set replaces it)`;
    this.log("warn", `${what}: ${deferred}`);
    return { deferred };
  }

  async pair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined> {
    const outcome = await refused(stored(this.twins, this.twins.pair(follower, source)));
    return this.told(outcome, follower, source, `${follower} follows ${source}`);
  }

  async unpair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined> {
    const outcome = await refused(stored(this.twins, this.twins.unpair(follower, source)));
    return this.told(outcome, follower, source, `${follower} no longer follows ${source}`);
  }

  async query(): Promise<void> {
    await refused(this.twins.query());
  }

  async forget(id: NodeId, force: boolean): Promise<ForgetDone> {
    if (!this.twins.forget) throw new CommandRefused("this twins view cannot forget nodes");
    const done = await refused(stored(this.twins, this.twins.forget(id, { force })));
    const followers = done.unpaired.length > 0 ? `; ${done.unpaired.join(", ")} unpaired from it` : "";
    this.log("info", `forgot ${id}${followers}`);
    return done;
  }

  private told(outcome: PairingOutcome, follower: NodeId, source: NodeId, pairing: string) {
    const t = this.pendingPairs.told(outcome, follower, source, pairing, this.twins.get(follower)?.presence);
    this.log(t.level, t.text);
    this.update(this.twins.get(follower)); // the list marks a pairing it stored as waiting
    return t.deferred;
  }

  readonly setLoss = unsupported("setLoss");
  readonly press = unsupported("press");
  readonly powerCycle = unsupported("powerCycle");
  readonly pullCable = unsupported("pullCable");
  readonly restartBroker = unsupported("restartBroker");
  readonly powerOutage = unsupported("powerOutage");
  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** The whole list from the registry, once, when first asked; events keep it after. */
  private build(): void {
    if (this.built) return;
    this.built = true;
    this.sync.settle();
    if (this.sync.report === undefined) this.sync.apply(this.twins.convergence());
    this.judged.moved();
    this.listed.reset(this.twins.list().map((t) => this.summary(t)));
  }

  /** `changedAt`: when the view learned of the change this summary shows (absent when building). */
  private summary(t: Twin, changedAt?: number): ConsoleNode {
    return {
      id: t.id,
      kind: t.kind,
      on: t.reported?.on ?? false,
      online: t.presence === "online",
      ...(t.presence === "unheard" ? { unheard: true } : {}),
      sync: this.sync.of(t.id),
      version: this.versions.of(t.version, this.twins.generation),
      ...(changedAt !== undefined ? { changedAt } : {}),
      ...waitsOf(
        t,
        this.pendingPairs.waits(t.id),
        this.twins.keptSet?.(t.id) !== undefined,
        this.twins.waiting === undefined,
      ),
    };
  }

  /** One twin changed: its summary is replaced, and views that follow single nodes are told. */
  private update(t: Twin | undefined): void {
    if (!this.built || t === undefined) return;
    this.listed.put(this.summary(t, this.sched.wallNow()));
    this.events.emit("node", t.id);
  }

  /** A twin forgotten: out of the list, and what the latency timing kept of its pairings. */
  private remove(id: NodeId): void {
    this.timing.forget(id);
    this.pendingPairs.forget(id);
    this.judged.moved();
    if (this.built && this.listed.remove(id)) this.events.emit("node", id);
  }

  /** A line for the log, after the summary of a burst under way (so the log stays in order); a sim's own too. */
  log(level: LogLevel, text: string): void {
    this.bursts.flush();
    this.events.emit("log", { t: this.sched.now(), level, text });
  }
}
