/**
 * Whether the broker kept the retained messages the service wrote: a config for an offline node, a
 * report put back. The service subscribes to those topics, so a retained write the broker took comes
 * back to it. One that it acknowledged (PUBACK) but never delivered was dropped: Mosquitto answers
 * a publish its access rules deny (`Denied PUBLISH` in its log), or one over its
 * `message_size_limit`, with a PUBACK all the same under MQTT 3.1.1, and keeps nothing. The service
 * then believed a pairing written, a report put back, and said nothing (a Mosquitto whose ACL gave
 * the twins login no write on `tf/config/#`: `twinfleet pair` said "its retained config was
 * written" of a config the broker never held). Now a write not back within ECHO_WAIT_MS is told,
 * once per minute at most, with the topics. The echo may come before the PUBACK (a broker forwards
 * a publish to its subscribers, the writer among them, and acknowledges it in either order): a
 * write is watched from when it is sent, so an echo ahead of its acknowledgement counts.
 */
import type { Logger } from "pino";
import { minOf } from "../node/extremes.js";
import { after, type Scheduler, type Timer } from "./clock.js";

/** How long a retained write may take to come back before it counts as dropped. */
export const ECHO_WAIT_MS = 10_000;
/** The least time between two warnings (the topics of the later ones are summed in the next). */
export const ECHO_WARN_EVERY_MS = 60_000;

export class RetainedEcho {
  /** Acknowledged writes not seen back yet: topic → when acknowledged. */
  private readonly pending = new Map<string, number>();
  /** Writes sent and not acknowledged yet: topic → whether a message came on it since. */
  private readonly sent = new Map<string, boolean>();
  private timer: Timer | undefined;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private readonly dropped: string[] = [];

  constructor(
    private readonly opts: {
      readonly scheduler: Scheduler;
      readonly logger: Logger;
      readonly url: string;
      readonly username?: string | undefined;
    },
    /** Told how many writes were just found dropped (for a counter: the warning is once a minute). */
    private readonly found: (count: number) => void = () => {},
  ) {}

  /** A retained write of `payload` on `topic` is sent (an empty one clears: not watched). */
  sending(topic: string, payload: Buffer | string): void {
    if (payload.length > 0) this.sent.set(topic, false);
  }

  /** The broker acknowledged a retained write of `payload` on `topic`. */
  acknowledged(topic: string, payload: Buffer | string): void {
    if (payload.length === 0) return;
    const back = this.sent.get(topic);
    this.sent.delete(topic);
    if (back === true) return;
    this.pending.set(topic, this.opts.scheduler.now());
    this.arm();
  }

  /** A message came on `topic`: the write is back (or another was written over it: nothing to tell). */
  seen(topic: string): void {
    this.pending.delete(topic);
    if (this.sent.has(topic)) this.sent.set(topic, true);
  }

  /** The connection went: what the broker kept shows in the replay after it is back. */
  clear(): void {
    this.pending.clear();
    this.sent.clear();
    this.dropped.length = 0;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    // A warning held back waits for its minute; else the oldest write waits for its echo.
    const due =
      this.dropped.length > 0
        ? this.lastWarnAt + ECHO_WARN_EVERY_MS
        : minOf(this.pending.values()) + ECHO_WAIT_MS;
    this.timer = after(this.opts.scheduler, Math.max(0, due - this.opts.scheduler.now()), () => {
      this.timer = undefined;
      this.check();
    });
  }

  private check(): void {
    const now = this.opts.scheduler.now();
    const before = this.dropped.length;
    for (const [topic, at] of this.pending) {
      if (now - at < ECHO_WAIT_MS) continue;
      this.pending.delete(topic);
      this.dropped.push(topic);
    }
    if (this.dropped.length > before) this.found(this.dropped.length - before);
    if (this.dropped.length > 0 && now - this.lastWarnAt >= ECHO_WARN_EVERY_MS) this.warn(now);
    if (this.pending.size > 0 || this.dropped.length > 0) this.arm();
  }

  private warn(now: number): void {
    const topics = this.dropped.splice(0);
    this.lastWarnAt = now;
    const { url, username } = this.opts;
    const login = username !== undefined ? `the login ${username}` : "an anonymous login";
    const shown = topics.slice(0, 5).join(", ") + (topics.length > 5 ? ` and ${topics.length - 5} more` : "");
    this.opts.logger.warn(
      { broker: url, dropped: topics.length, topics: topics.slice(0, 5) },
      `twins: the broker at ${url} acknowledged ${topics.length === 1 ? "a retained write" : `${topics.length} retained writes`} (${shown}) but did not deliver ${topics.length === 1 ? "it" : "them"} back in ${ECHO_WAIT_MS / 1000} s: it dropped ${topics.length === 1 ? "it" : "them"}, or it is that far behind (a busy host at a large fleet's start). Do its access rules let ${login} write there? (Mosquitto drops a denied publish, or one over its message_size_limit, and acknowledges it all the same: its log says "Denied PUBLISH"; or the echo overflowed the service's own queue, max_queued_messages.) Pairings written for offline nodes and reports put back do not reach the nodes until it does`,
    );
  }
}
