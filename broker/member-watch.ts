/**
 * Which members of a Redis cluster (brokers sharing one Redis: docs/cluster.md) are cut off, within
 * seconds. Each member publishes a beat (`$SYS/broker/member/<id>/beat`, no payload, not retained)
 * every `beatMs` through Redis, as every message between members goes, and hears its own and the
 * others'. A member whose beats stop while this broker's own keep coming round through the same Redis
 * for `lostMs` is lost: killed, or cut off from Redis; either way its clients reach no one. While this
 * broker's own beats do not come round (Redis frozen, restarting, or this broker cut off), nobody is
 * judged, and once they flow again every member is given `lostMs` from then: a Redis pause takes no
 * live member for lost. A lost member is told once (`$SYS/broker/member/<id>/lost`, QoS 1, not
 * retained, its payload the topics of the wills its clients left in Redis, one a line): the twins
 * take those nodes as unheard (twins/member-loss.ts) without anyone publishing a will, since a node
 * may be alive on a member cut off only from Redis. Its wills stay to Aedes's heartbeat (3 missed
 * 60 s beats, looked for every 4 minutes). A lost member heard again is told as back.
 */
import { every, type Scheduler, type Timer } from "../node/scheduler.js";

/** The topics of the members' beats and losses: `$SYS/broker/member/<id>/<beat|lost|back>`. */
export const MEMBER_TOPIC = "$SYS/broker/member";
export const MEMBER_BEAT_MS = 1_000;
export const MEMBER_LOST_MS = 5_000;

export interface MemberWatchOptions {
  readonly beatMs?: number;
  readonly lostMs?: number;
}

/** What the watch does outside itself. */
export interface MemberWatchIo {
  /** Publishes this member's beat. */
  beat(): void;
  /** `id`'s beats stopped for `silentMs` while this member's own came round. */
  lost(id: string, silentMs: number): void;
  /** `id`, told lost, beats again after `silentMs`. */
  back(id: string, silentMs: number): void;
}

export class MemberWatch {
  private readonly beatMs: number;
  private readonly lostMs: number;
  /** Each other member's last beat, heard on this broker's clock. */
  private readonly heard = new Map<string, number>();
  private readonly lostOnes = new Set<string>();
  /** This member's own last beat heard back, and since when they have come without a gap. */
  private ownHeard: number | undefined;
  private flowingSince: number | undefined;
  private timer: Timer | undefined;

  constructor(
    private readonly selfId: string,
    private readonly scheduler: Scheduler,
    private readonly io: MemberWatchIo,
    opts: MemberWatchOptions = {},
  ) {
    this.beatMs = opts.beatMs ?? MEMBER_BEAT_MS;
    this.lostMs = opts.lostMs ?? MEMBER_LOST_MS;
  }

  start(): void {
    this.io.beat();
    this.timer = every(this.scheduler, this.beatMs, () => {
      this.judge();
      this.io.beat();
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** This member and the others heard and not lost. */
  alive(): Set<string> {
    return new Set([this.selfId, ...[...this.heard.keys()].filter((id) => !this.lostOnes.has(id))]);
  }

  /** Members told lost and not back. */
  lost(): string[] {
    return [...this.lostOnes].sort();
  }

  /** A beat of member `id` came through Redis. */
  beatOf(id: string): void {
    const now = this.scheduler.now();
    if (id === this.selfId) {
      if (!this.flowing(now)) this.flowingSince = now;
      this.ownHeard = now;
      return;
    }
    const last = this.heard.get(id);
    this.heard.set(id, now);
    if (this.lostOnes.delete(id)) this.io.back(id, now - (last ?? now));
  }

  /**
   * Member `id` is known to have had clients here (its wills are in the store) though none of its beats
   * was heard: it is judged from now, as if it had just beaten. A member that died before this one heard
   * it, or while this one was not running, is told lost too.
   */
  known(id: string): void {
    if (id !== this.selfId && !this.heard.has(id)) this.heard.set(id, this.scheduler.now());
  }

  /** Own beats come round: the last one no older than two beats. */
  private flowing(now: number): boolean {
    return this.ownHeard !== undefined && now - this.ownHeard <= 2 * this.beatMs;
  }

  private judge(): void {
    const now = this.scheduler.now();
    if (!this.flowing(now) || this.flowingSince === undefined) return;
    for (const [id, last] of this.heard) {
      if (this.lostOnes.has(id) || now - Math.max(last, this.flowingSince) < this.lostMs) continue;
      this.lostOnes.add(id);
      this.io.lost(id, now - last);
    }
  }
}
