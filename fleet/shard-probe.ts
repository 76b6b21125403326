/**
 * The clock probe of a shard: every `everyMs` it publishes its time on
 * `<prefix>/shard-probe/<seed>/<K>` and it listens to every shard's probes of the same fleet (its
 * own included). Its time is the one the shard's records are on (fleet/shard-run.ts): the date at
 * the shard's start (`timeOrigin`) moved on by the monotonic clock, which a step of the host's date
 * (NTP, `date -s`) does not move. Stamped with the date itself, a probe sent or received after a step
 * measured the step into the offset: a shard whose date stepped an hour ahead mid-run came out
 * 30 min off, every pair across shards at 0 ms and its presses "pressed apart". For each sending shard it keeps the smallest `received − sent` seen (the sender's
 * clock against this one's, plus the one-way delay through the broker) and how many arrived; for its
 * own probes that smallest difference is the round trip through the broker. The merge
 * (fleet/shard-offsets.ts) turns both directions of each pair of shards into an offset.
 */
import type mqtt from "mqtt";
import type { Scheduler, Timer } from "../node/scheduler.js";
import { every } from "../node/scheduler.js";
import { PROBE_EVERY_MS } from "../twins/index.js";

/** What one shard saw of one sender's probes. */
export interface ProbeReceipt {
  readonly count: number;
  /** The smallest (receiver's time − sender's stamped time), in ms. */
  readonly minDeltaMs: number;
}

export interface ProbeRecord {
  readonly everyMs: number;
  readonly sent: number;
  /** By sending shard (1-based, as a string key); this shard's own entry is its round trips. */
  readonly received: Readonly<Record<string, ProbeReceipt>>;
  /**
   * The shard's clock is its host's date to within this many ms, as its reads proved at its start
   * (node/wall-origin.ts): with no offset measured, two shards on one host are this far apart at
   * most. Absent in reports written before it was recorded.
   */
  readonly originUncertaintyMs?: number;
}

export { PROBE_EVERY_MS } from "../twins/index.js";

export function probeTopic(prefix: string, seed: string, shard: number | "+"): string {
  // The seed in the topic keeps two fleets on one broker apart; '/', '+' and '#' cannot appear in it.
  return `${prefix}/shard-probe/${seed.replace(/[/+#]/g, "_")}/${shard}`;
}

export class ClockProbe {
  private sent = 0;
  private readonly received = new Map<number, { count: number; minDeltaMs: number }>();
  private timer: Timer | undefined;

  constructor(
    private readonly client: mqtt.MqttClient,
    private readonly topics: { readonly mine: string; readonly all: string },
    private readonly shard: number,
    private readonly sched: Scheduler,
    /** The date (ms since the epoch) at which `sched.now()` reads 0 for the shard's records. */
    private readonly timeOrigin: number,
    /** `timeOrigin` is the host's date to within this many ms (node/scheduler.ts datedZero). */
    private readonly originBoundMs: number,
    readonly everyMs = PROBE_EVERY_MS,
  ) {}

  /** The shard's time: its records' clock, not the host's date of the moment. */
  private time(): number {
    return this.timeOrigin + this.sched.now();
  }

  async start(): Promise<void> {
    this.client.on("message", (topic, payload) => this.onMessage(topic, payload));
    await this.client.subscribeAsync(this.topics.all, { qos: 0 });
    this.send();
    this.timer = every(this.sched, this.everyMs, () => this.send());
  }

  stop(): ProbeRecord {
    this.timer?.cancel();
    const received: Record<string, ProbeReceipt> = {};
    for (const [s, r] of [...this.received].sort((a, b) => a[0] - b[0])) received[String(s)] = { ...r };
    return {
      everyMs: this.everyMs,
      sent: this.sent,
      received,
      originUncertaintyMs: Math.ceil(this.originBoundMs * 1000) / 1000,
    };
  }

  private send(): void {
    this.sent++;
    const body = JSON.stringify({ shard: this.shard, sentMs: this.time() });
    this.client.publish(this.topics.mine, body, { qos: 0 });
  }

  /** Whether any probe has come back through the broker (a broker whose rules refuse the topic: never). */
  get heardBack(): boolean {
    return this.received.size > 0;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const at = this.time();
    if (!topic.startsWith(this.topics.all.slice(0, -1))) return;
    let m: unknown;
    try {
      m = JSON.parse(payload.toString("utf8"));
    } catch {
      return;
    }
    const { shard, sentMs } = (m ?? {}) as { shard?: unknown; sentMs?: unknown };
    if (typeof shard !== "number" || typeof sentMs !== "number" || !Number.isFinite(sentMs)) return;
    const delta = at - sentMs;
    const r = this.received.get(shard);
    if (r) {
      r.count++;
      r.minDeltaMs = Math.min(r.minDeltaMs, delta);
    } else this.received.set(shard, { count: 1, minDeltaMs: delta });
  }
}
