/**
 * The twins service: the control server of protocol.md §6 on one MQTT connection. This module holds
 * the commands (set, pair, unpair, query) and turns the registry's effects into events, re-checks and
 * saves; the connection is `BrokerLink`, the re-sends `Reconciler`, the convergence report
 * `ConvergenceFeed`, saving `DesireSaver`, all on the one injected scheduler. A passive service only
 * watches (nothing stored or published but a query on reconnecting, if told to). With the broker away
 * a set or query is refused, a pair or unpair stored and sent when the node registers (twins.md).
 */
import { EventEmitter } from "node:events";
import { assertNever, type Message, type NodeId, type Prefix } from "../protocol/index.js";
import { nodeId, type PairingOutcome, type Twins, TwinsCommandError } from "./api.js";
import { BadInputLog } from "./bad-input.js";
import { openLink, type TwinsLink } from "./broker-link.js";
import { BrokerWait, type BrokerWaitStatus } from "./broker-wait.js";
import type { ConvergenceReport } from "./convergence.js";
import { type ConvergenceFeed, fleetFeed } from "./convergence-feed.js";
import { IncrementalConvergence } from "./convergence-incremental.js";
import { type DesireChangeDeps, pairDesired, rewriteCrossed, unpairDesired } from "./desire-change.js";
import { DesireSaver } from "./desire-saver.js";
import type { RegistryEffect } from "./effects.js";
import { EmptyFleetCheck } from "./empty-fleet.js";
import { FlapLog, flapWatch } from "./flapping.js";
import { type ForgetAfter, forgetAfterOf } from "./forget-after.js";
import { HeldAnswers } from "./held-answers.js";
import type { KeptHistory } from "./history-restore.js";
import { type KeptSet, type KeptSets, keptSetsFor } from "./kept-sets.js";
import { OfflineWritesLog } from "./offline-writes-log.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { tellReplaced } from "./other-services.js";
import { brokerRestarted, memberLost, type PresenceMoveDeps, presenceMoved } from "./presence-moves.js";
import { PutBack } from "./put-back.js";
import { logResendFailure, Reconciler } from "./reconcile.js";
import { connectQueryOf, type ReconnectQuery } from "./reconnect-query.js";
import { TwinRegistry } from "./registry.js";
import { ReplayEnd } from "./replay-end.js";
import { type MarkerFate, replayOver } from "./replay-marker.js";
import { type ForgetOutcome, onForgetRequest, type RetireDeps, retire, retireDeps } from "./retire.js";
import { datedState } from "./stored-dates.js";
import type { Presence, SeriesPoint, Twin, TwinsEvents } from "./types.js";
import { UnansweredCheck } from "./unanswered.js";

const MS_PER_TWIN = 0.1; // past 1,000 twins the interval and save wait grow with the fleet (each walks every twin)

export class TwinsService extends EventEmitter<TwinsEvents> implements Twins {
  readonly registry: TwinRegistry;
  readonly prefix: Prefix;
  private readonly link: TwinsLink;
  private readonly feed: ConvergenceFeed;
  private readonly converged = new IncrementalConvergence();
  private readonly saver: DesireSaver;
  private readonly reconciler: Reconciler;
  private readonly putBack: PutBack;
  private readonly connectQuery: ReconnectQuery; // skipped again on a broker that ran on
  private readonly originJudge: ReplayEnd; // the one wait for a replay's end: twins/replay-end.ts
  private readonly badInputLog: BadInputLog;
  private readonly flaps = flapWatch();
  private readonly flapLog: FlapLog;
  private readonly offlineWrites: OfflineWritesLog; // bulk re-pairings' lines grouped
  private readonly unanswered: UnansweredCheck;
  private readonly emptyFleet: EmptyFleetCheck | undefined;
  private readonly retiring: RetireDeps;
  private readonly forgetting: ForgetAfter | undefined; // --forget-after: twins/forget-after.ts
  private readonly held: HeldAnswers | undefined; // with a presence, answers whom it holds: twins/held-answers.ts
  private readonly kept: KeptSets; // the pending sets, told to other clients: twins/kept-sets.ts
  private readonly moves: PresenceMoveDeps;
  private closed = false;
  restartAtStart: Twins["restartAtStart"]; // told at the first connection (twins/api.ts)
  readonly replayOver = (maxMs: number): Promise<boolean> =>
    replayOver(this.opts.scheduler, this.link.replayMarker, () => this.originJudge.lastAt, maxMs);
  readonly replayFate = (maxMs: number): Promise<MarkerFate> =>
    this.link.replayMarker?.fate(maxMs) ?? Promise.resolve({ dropped: 0 });
  private wait: BrokerWait | undefined; // while the first connection of one waiting for its broker is under way
  reached: Promise<void> = Promise.resolve();
  readonly keptSet = (id: string): KeptSet | undefined => this.kept.of(id);

  constructor(private readonly opts: ResolvedTwinsOptions & { readonly history?: KeptHistory }) {
    super();
    this.prefix = opts.prefix;
    const registry = new TwinRegistry(opts.prefix, opts.maxNodes);
    this.registry = registry;
    registry.stood = (node, change) => this.emit("state-replayed", node, change);
    this.badInputLog = new BadInputLog(opts.logger, opts.scheduler);
    this.flapLog = new FlapLog(opts.logger, opts.scheduler);
    this.offlineWrites = new OfflineWritesLog(opts.logger, opts.scheduler);
    const on = { ...opts, events: this };
    const apply = (fx: readonly RegistryEffect[]) => this.apply(fx);
    this.link = openLink(opts, {
      message: (topic, payload, qos, retained) => this.onMessage(topic, payload, qos, retained),
      subscribing: () => {
        registry.brokerSession(() => this.link.restart?.ranOn());
        this.forgetting?.unwatch(); // until the re-read of the retained state is over
        this.originJudge.stop(); // judged from the last SUBACK: every read asked for and granted
      },
      subscribed: () => this.originJudge.begin(),
      ready: (again) => this.onReady(again),
      connection: (...told) => this.emit("broker", ...told),
      others: (services) => this.emit("other-services", services),
      dropped: (what, n) => this.emit("broker-dropped", what, n),
      replayCut: { known: () => registry.ids(), told: (cut) => this.emit("replay-cut", cut) },
      restarted: (since, how, before) => {
        const unheard = brokerRestarted(registry.brokerRestarted(since), how, on, apply, before);
        if (before) this.restartAtStart = { unheard, how };
      },
      memberLost: (loss) => memberLost(loss.member, registry.memberLost(loss.nodes), on, apply),
    });
    this.feed = fleetFeed(opts, registry, MS_PER_TWIN, this, opts.history);
    this.saver = new DesireSaver(opts.store, datedState(registry, opts.scheduler), opts.logger, {
      scheduler: opts.scheduler,
      stalls: opts.stalls,
      gapMs: () => (registry.size > 1000 ? registry.size * MS_PER_TWIN : 0),
    });
    this.unanswered = new UnansweredCheck(this, opts, registry, (fx) => this.apply(fx));
    const look = () => this.otherPrefixes();
    if (opts.warnEmptyFleet) this.emptyFleet = new EmptyFleetCheck(this, opts, () => registry.size, look);
    const judge = () => {
      this.apply(registry.replayOver());
      this.forgetting?.watch();
    };
    this.originJudge = new ReplayEnd(opts.scheduler, this.link.replayMarker, judge);
    this.putBack = new PutBack(registry, opts, (m) => this.send(m), this.originJudge, this, this.link, apply);
    this.kept = keptSetsFor(opts, this.link, registry, this);
    const ask = () => (opts.passive ? this.send({ kind: "query" }) : this.query());
    this.connectQuery = connectQueryOf(opts, this.link, registry, this.originJudge, ask);
    this.retiring = retireDeps(registry, opts, this.link, {
      unpair: (f, s) => this.unpair(f, s),
      apply: (fx) => this.apply(fx),
    });
    this.forgetting = forgetAfterOf(opts, registry, this.retiring, this);
    if (opts.presence && !opts.passive)
      this.held = new HeldAnswers({
        ...opts,
        holds: (id) => registry.has(id),
        twins: () => registry.size,
        publish: (...a) => this.link.publish(...a),
        bad: (i) => this.apply([registry.countBad(i)]),
      });
    this.reconciler = new Reconciler({
      registry,
      send: (msg) => this.send(msg),
      apply: (effects) => this.apply(effects),
      scheduler: opts.scheduler,
      holdMs: opts.resendHoldMs,
      onError: logResendFailure(opts.logger),
    });
    const { reconciler, flaps, flapLog } = this;
    const twin = (id: NodeId) => registry.get(id);
    this.moves = { events: this, twin, reconciler, flaps, flapLog, scheduler: opts.scheduler };
  }
  get clientId(): string {
    return this.opts.clientId;
  }
  get passive(): boolean {
    return this.opts.passive;
  }
  readonly connect = (): Promise<void> => this.link.connect();

  /** The first connection, tried again while what fails may pass (twins/broker-wait.ts). */
  connectWaiting(): void {
    const tell = (reached: boolean) =>
      this.emit("broker", reached, undefined, reached ? undefined : "unreached");
    this.wait = new BrokerWait({ ...this.opts, tell });
    this.reached = this.link.connect(this.wait);
    this.reached.catch(() => {}); // a caller that never looks at it is no unhandled rejection
  }

  get waiting(): BrokerWaitStatus | undefined {
    return this.wait?.status;
  }
  get lostCause(): string | undefined {
    return this.link.failures?.cause;
  }
  get unsavedSince(): number | undefined {
    return this.saver.unsavedSince;
  }
  get unsavedCause(): string | undefined {
    return this.saver.unsavedCause;
  }
  get stalledSave(): Twins["stalledSave"] {
    return this.saver.stalledSave;
  }
  get stalledHistory(): Twins["stalledHistory"] {
    return this.feed.historyStalled; // its convergence history's write: a stop waits for it too
  }

  get fleetUnseen() {
    return this.emptyFleet?.fault;
  }

  readonly otherPrefixes = async () => this.link.prefixLook?.look();

  get otherServices() {
    return this.link.otherServices;
  }

  /** Subscribed (and the presence held): a query, so registers list live nodes (twins/reconnect-query.ts) */
  private async onReady(again: boolean): Promise<void> {
    this.emptyFleet?.ready(); // no node seen in a while: told once (twins/empty-fleet.ts)
    if (!this.opts.passive) this.putBack.all();
    if (!this.opts.passive) this.kept.all(this.registry.list());
    await this.connectQuery.connected(again);
  }

  readonly list = (): Twin[] => this.registry.list();
  readonly count = (): number => this.registry.size;
  readonly replaysCut = (): number => this.link.replayMarker?.cut.cutReads ?? 0;
  readonly replayMarkerBack = (): boolean => this.originJudge.markerBack;
  readonly get = (id: string): Twin | undefined => this.registry.get(nodeId(id, "node"));
  readonly presenceOf = (id: NodeId): Presence | undefined => this.registry.presenceOf(id);

  async set(id: string, on: boolean): Promise<number> {
    const node = nodeId(id, "node");
    this.active("set");
    const counter = this.registry.maxCounter;
    const msg: Message = { kind: "state", node, on, counter };
    await this.send(msg);
    // Commands are not queued for an offline node: only a sent-to-online set holds back a re-send.
    if (this.registry.get(node)?.presence === "online") this.reconciler.markSent(node, msg);
    this.apply(this.registry.setSent(node, on, counter));
    this.opts.logger.info({ node, on, counter }, "twins: set");
    return counter;
  }

  async pair(follower: string, source: string): Promise<PairingOutcome> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
    this.active("pair");
    return pairDesired(this.desireDeps(), f, s);
  }

  async unpair(follower: string, source: string): Promise<PairingOutcome> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
    this.active("unpair");
    return unpairDesired(this.desireDeps(), f, s);
  }

  forget(id: string, opts: { force?: boolean } = {}): Promise<ForgetOutcome> {
    this.active("forget");
    return retire(this.retiring, nodeId(id, "node"), opts);
  }

  async query(): Promise<void> {
    this.active("query");
    await this.send({ kind: "query" });
    this.unanswered.queried(); // a node shown online that does not answer goes offline (twins/unanswered.ts)
  }

  convergence(): ConvergenceReport {
    const { nodes, changed, reordered } = this.registry.convergenceChanges();
    return reordered ? this.converged.update(nodes) : this.converged.updateChanged(nodes, changed);
  }

  readonly history = (): SeriesPoint[] => this.feed.history();
  readonly minutes = () => this.feed.minutes(); // the long tier: twins/minute-tier.ts
  readonly away = () => this.feed.away(); // the broker's outages, kept: twins/broker-spans.ts
  readonly historyUnwritten = () => this.feed.historyUnwritten; // its writes failing: /healthz, /metrics

  readonly badInput = () => this.registry.badInput();
  readonly badInputOf = (id: string): number => this.registry.badInputOf(nodeId(id, "node"));

  readonly flush = (): Promise<void> => this.saver.flush();
  readonly written = (): Promise<string | undefined> => this.saver.written();

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.flapLog.flush();
    await this.link.close();
    this.offlineWrites.flush(); // the summary of the writes under way, all of them settled now
    if (!this.opts.passive) this.saver.save(); // the last-seen dates as they stand (stored-dates.ts)
    await this.saver.close();
    await this.feed.close(); // the kept history's last points, and its clean stop
    await this.opts.store.close();
  }

  async kill(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.saver.kill();
    this.stopTimers();
    this.flapLog.stop();
    this.offlineWrites.flush();
    await this.link.kill();
  }

  private stopTimers(): void {
    const { wait, unanswered, emptyFleet, feed, reconciler, putBack, originJudge, badInputLog } = this;
    for (const t of [wait, unanswered, emptyFleet, feed, reconciler, putBack, originJudge, badInputLog])
      t?.stop();
    this.forgetting?.stop();
    this.connectQuery.stop();
  }

  private desireDeps(): DesireChangeDeps {
    const { registry, reconciler, opts, offlineWrites } = this;
    const apply = (fx: readonly RegistryEffect[]) => this.apply(fx);
    return { registry, reconciler, apply, send: (m) => this.send(m), logger: opts.logger, offlineWrites };
  }

  /** Throws for a command on a passive service. */
  private active(what: string): void {
    if (this.opts.passive) throw new TwinsCommandError(`${what}: a passive twins service sends no commands`);
  }

  private onMessage(topic: string, payload: Buffer, qos: 0 | 1, retained: boolean): void {
    let effects: RegistryEffect[];
    if (onForgetRequest(this.retiring, topic, payload, retained)) return;
    if (this.held?.message(topic, payload, retained) || this.kept.message(topic, payload)) return;
    try {
      if (retained) this.originJudge.replayed();
      effects = this.registry.receive(topic, payload, qos, this.opts.scheduler.now(), retained);
    } catch (err) {
      // A bug of ours, not bad input (the registry reports that as effects): log it, keep serving.
      this.opts.logger.error({ err, topic }, "twins: failed to handle a message");
      return;
    }
    this.apply(effects);
  }

  private apply(effects: readonly RegistryEffect[]): void {
    const persist: NodeId[] = [];
    for (const e of effects) {
      switch (e.type) {
        case "registered": {
          const twin = this.registry.get(e.node);
          if (twin) {
            this.emit("twin-registered", twin, e.first, e.again);
            this.emit("twin-updated", twin, "register");
          }
          if (!this.opts.passive) this.saver.note(e.node); // its identity, in the next write
          this.reconcileLater(e.node);
          break;
        }
        case "reconcile":
          this.reconcileLater(e.node);
          break;
        case "crossed": // both pairings kept, written again (twins/crossed-writes.ts)
          if (!this.opts.passive) rewriteCrossed(this.desireDeps(), e);
          break;
        case "put-back":
          this.putBack.one(e.node);
          break;
        case "config-behind": // the broker's config older than the twin's (twins/broker-copy.ts)
          this.putBack.configBehind(e);
          break;
        case "updated": {
          // A view is made for each report: none when nobody listens.
          const twin = this.listenerCount("twin-updated") > 0 ? this.registry.get(e.node) : undefined;
          if (twin) this.emit("twin-updated", twin, e.change, e.replayed === true);
          if (e.change === "report" || e.change === "config") this.feed.schedule();
          break;
        }
        case "online":
        case "offline":
        case "unheard":
          if (e.type === "online" && e.dropped) persist.push(e.node); // the writes kept for it, out of the store
          presenceMoved(e, this.moves);
          this.feed.schedule(); // the followers online and unheard: a point of the series when they change
          if (e.type === "offline") persist.push(e.node); // its last-seen date is final (stored-dates.ts)
          break;
        case "bad-input":
          this.badInputLog.log(e.input);
          this.emit("bad-input", e.input);
          break;
        case "desired-changed":
          persist.push(e.node);
          this.kept.changed(e.node, this.registry.get(e.node));
          if (e.replaced) tellReplaced(this, this.opts.logger, e.node, e.replaced, e.fromStore === true);
          break;
        case "forgotten": // room for a newcomer at maxNodes, or retired: out of the store too
          this.reconciler.forget(e.node);
          this.flaps.forget(e.node);
          this.emit("twin-forgotten", e.node, e.retired ? "retired" : "room");
          this.kept.changed(e.node, undefined);
          this.feed.schedule();
          persist.push(e.node);
          break;
        default:
          assertNever(e);
      }
    }
    if (persist.length > 0) this.persist(persist);
  }

  private reconcileLater(node: NodeId): void {
    if (!this.opts.passive) this.reconciler.later(node);
  }

  /** The desire of `nodes` changed: stored in the next write (passive: no desire of its own). */
  private persist(nodes: readonly NodeId[]): void {
    if (!this.opts.passive && !this.closed) for (const n of nodes) this.saver.save(n);
  }

  private async send(msg: Message): Promise<void> {
    if (this.closed || !(await this.link.send(msg)))
      throw new TwinsCommandError("the twins service is closed");
  }
}
