/**
 * When the broker's replay of the retained state is over, for a one-shot command that acts on it
 * (cli/commands/twins-run.ts): a marker published on the service's own connection after its
 * subscriptions' SUBACKs comes back after the retained messages a broker sends at once (Mosquitto),
 * but not always after all of them: Aedes streams a subscription's retained messages from its
 * persistence beside the live path, and on Redis (`broker --redis`, docs/cluster.md) the wildcard
 * lookup is an HSCAN that can deliver them after a message published later. So the replay counts as
 * over once the marker is back and no retained message has come for REPLAY_SETTLE_MS, or for 4 round
 * trips of the marker on a slower broker; a broker that never sends the marker back (its access rules
 * refuse it) leaves the whole bound. The commands waited their whole `--wait` (1.5 s) every time.
 * A marker not back then is judged by a second one behind it (fate): passed by it, dropped; neither
 * back though the broker acknowledged the second, not sent back (a write access rules deny); else slow.
 * With `replayCheck`, fate also tells which SUBSCRIBEs' replays the broker cut (twins/replay-cut.ts),
 * which the marker, published after the SUBACKs into a drained queue, does not show.
 */
import { after, type Scheduler } from "./clock.js";
import { ReplayCut, type ReplayCutRead } from "./replay-cut.js";
import { REPLAY_SETTLE_MS, whenReplayOver } from "./replay-end.js";
import { type Subscriber, subscribeUnlessRefused } from "./subscriptions.js";

/** The marker's round trips that must pass with no retained message, on a broker slower than REPLAY_SETTLE_MS / 4. */
const ROUND_TRIPS_QUIET = 4;

/** What the marker needs of the connection. */
export interface MarkerClient extends Subscriber {
  readonly connected: boolean;
  publishAsync(topic: string, payload: string, opts: { qos: 0 | 1 }): Promise<unknown>;
  /** MQTT.js's: the id of its last QoS 1 publish, and its store of those awaiting their PUBACK. */
  getLastMessageId?(): number;
  readonly outgoing?: Readonly<Record<number, unknown>>;
  removeOutgoingMessage?(messageId: number): unknown;
}

export class ReplayMarker {
  /** The round trips under way by their payload (a look at other prefixes may run beside a command's). */
  private readonly waiting = new Map<string, () => void>();
  /** Markers published (their subscription granted) and not back yet, with when they were published. */
  private readonly out = new Map<string, number>();
  /** Markers whose publish the broker acknowledged (PUBACK: it took them), until they are back. */
  private readonly acked = new Set<string>();
  /** The MQTT.js message id of each marker out, while its PUBACK is awaited. */
  private readonly ids = new Map<string, number>();
  /** Told of each marker back (fate() waiting on the ones out). */
  private back: (() => void) | undefined;
  private sent = 0;
  /** `<prefix>/twins-probe/<clientId>/replay`: under the topics the service's probe may use (docs/mosquitto.md). */
  readonly topic: string;
  private readonly scheduler: Scheduler;
  /** Whether the broker cut the replay of a SUBSCRIBE: the subscriptions ask it (fate tells it with `replayCheck`). */
  readonly cut = new ReplayCut();
  private readonly check: boolean;

  constructor(
    opts: {
      readonly prefix: string;
      readonly clientId: string;
      readonly scheduler: Scheduler;
      readonly replayCheck?: boolean;
    },
    /** The connection, while there is one. */
    private readonly client: () => MarkerClient | undefined,
  ) {
    this.topic = `${opts.prefix}/twins-probe/${opts.clientId}/replay`;
    this.scheduler = opts.scheduler;
    this.check = opts.replayCheck === true;
  }

  /** A message from the broker: true when it is a marker (which ends the round trip that sent it) or the cut check's. */
  message(topic: string, payload: Buffer, retained = false): boolean {
    if (this.cut.message(topic, retained)) return true;
    if (topic !== this.topic) return false;
    const id = payload.toString("latin1");
    this.waiting.get(id)?.();
    this.out.delete(id);
    this.back?.();
    return true;
  }

  /**
   * Publishes the marker (subscribed first) and resolves with its round trip in ms once it is back;
   * undefined when there is no connection or the broker refused the subscription. Never rejects. At
   * QoS 1: the broker's PUBACK says it took the marker, which tells a marker it would not send back
   * (fate) from one a slow broker has not yet handled. Mosquitto acknowledges a publish its access
   * rules deny, and drops it.
   */
  async roundTrip(): Promise<number | undefined> {
    const client = this.client();
    if (client?.connected !== true) return undefined;
    const id = String(++this.sent);
    try {
      if (!(await subscribeUnlessRefused(client, this.topic, 0))) return undefined;
      const sentAt = this.scheduler.now();
      const came = new Promise<void>((resolve) => this.waiting.set(id, resolve));
      this.out.set(id, sentAt);
      // Back before its PUBACK counts as back; a publish that fails ends the round trip.
      const last = client.getLastMessageId?.();
      const taken = client.publishAsync(this.topic, id, { qos: 1 }).then(() => {
        this.ids.delete(id);
        if (this.out.has(id)) this.acked.add(id);
        return came;
      });
      // Its id, when it was given one at once (not queued behind MQTT.js's store): release() needs it.
      const mid = client.getLastMessageId?.();
      if (mid !== undefined && mid !== last) this.ids.set(id, mid);
      await Promise.race([came, taken]);
      return this.scheduler.now() - sentAt;
    } catch {
      return undefined;
    } finally {
      this.waiting.delete(id);
      this.out.delete(id);
      this.acked.delete(id);
      this.ids.delete(id);
    }
  }

  /**
   * The connection closes: markers still awaiting their PUBACK (a broker too slow to take them) are
   * taken out of MQTT.js's store, whose gentle end would otherwise wait for them (up to the goodbye's
   * grace, with its warning).
   */
  release(): void {
    const client = this.client();
    for (const mid of this.ids.values())
      if (client?.outgoing?.[mid] !== undefined) client.removeOutgoingMessage?.(mid);
    this.ids.clear();
  }

  /**
   * Markers published on a granted subscription that have not come back: the broker dropped them (a
   * client queue full of the replay, Mosquitto's max_queued_bytes or max_queued_messages; or access
   * rules that let the login read `<prefix>/twins-probe/#` but not write it), or is slow.
   */
  get unanswered(): number {
    return this.out.size;
  }

  /**
   * What became of the markers not back: one more is published behind them and waited for up to
   * `maxMs`. A broker keeps a connection's order for one QoS, so that one back before them says they
   * were dropped; them back says they were only slow; neither back says nothing of a drop (a slow
   * broker or host), unless the broker acknowledged the one behind (`acknowledged`): it took it, and
   * sent neither back. It used to call every marker not back at the replay's end dropped. With the
   * cut check, what it found is told beside (`cut`).
   */
  async fate(maxMs: number): Promise<MarkerFate> {
    const judged = await this.markersFate(maxMs);
    return this.check ? { ...judged, cut: this.cut.read } : judged;
  }

  private async markersFate(maxMs: number): Promise<MarkerFate> {
    if (this.out.size === 0) return { dropped: 0 };
    const earlier = [...this.out.keys()];
    const since = Math.min(...this.out.values());
    const left = () => earlier.filter((id) => this.out.has(id)).length;
    let passed = false;
    let second: string | undefined;
    await new Promise<void>((resolve) => {
      const bound = after(this.scheduler, maxMs, () => end());
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        bound.cancel();
        this.back = undefined;
        resolve();
      };
      this.back = () => {
        if (left() === 0) end();
      };
      const before = this.sent;
      void this.roundTrip().then((rtt) => {
        passed = rtt !== undefined && left() > 0;
        end();
      });
      if (this.sent > before) second = String(this.sent);
    });
    if (left() === 0) return { dropped: 0 };
    if (passed) return { dropped: left() };
    const notBackMs = this.scheduler.now() - since;
    const taken = second !== undefined && this.acked.has(second);
    return { dropped: 0, notBackMs, ...(taken && { acknowledged: true as const }) };
  }
}

/** The markers not back at the replay's end, judged (ReplayMarker.fate). */
export interface MarkerFate {
  /** Markers a later one passed: the broker dropped them. */
  readonly dropped: number;
  /** Markers neither back nor passed after this long (ms since the first was published): slow, not known dropped. */
  readonly notBackMs?: number;
  /** The replays the broker cut, as the cut check found (twins/replay-cut.ts); absent without it. */
  readonly cut?: ReplayCutRead;
  /**
   * With `notBackMs`: the broker acknowledged (PUBACK) the marker published behind them, and sent
   * none back. It took them and would not deliver them to this client: access rules that let the
   * login read `<prefix>/twins-probe/#` but not write it (Mosquitto acknowledges a denied publish
   * and drops it), or a client queue that stayed full.
   */
  readonly acknowledged?: true;
}

/**
 * Resolves true once the replay is over (the marker back, then no retained message — `lastAt` —
 * for the quiet time), false when `maxMs` passed first.
 */
export function replayOver(
  scheduler: Scheduler,
  marker: ReplayMarker | undefined,
  lastAt: () => number,
  maxMs: number,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let quiet: { cancel(): void } | undefined;
    let done = false;
    const finish = (over: boolean) => {
      if (done) return;
      done = true;
      bound.cancel();
      quiet?.cancel();
      resolve(over);
    };
    const bound = after(scheduler, maxMs, () => finish(false));
    void marker?.roundTrip().then((rtt) => {
      if (rtt === undefined || done) return;
      // Quiet since the marker came back; `bound` ends the wait, not the look's own longest.
      const quietMs = Math.max(REPLAY_SETTLE_MS, ROUND_TRIPS_QUIET * rtt);
      quiet = whenReplayOver(scheduler, lastAt, () => finish(true), {
        quietMs,
        maxMs: Number.POSITIVE_INFINITY,
      });
    });
  });
}
