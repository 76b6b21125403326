/**
 * PubSubClient 2.8's readPacket() held by a packet that arrives slowly: once the loop starts reading
 * a packet whose last byte has not reached the chip, it stays in readPacket() until that byte comes,
 * each byte waited for up to MQTT_SOCKET_TIMEOUT (readByte()): no keepalive check, no ping, no
 * press published meanwhile. This owns that wait (when it began, the timer for a gap between bytes);
 * the session decides what the packet or the gap does (docs/device-model.md, "A packet that arrives
 * slowly").
 */
import { type Scheduler, type TimerSlot, timerSlot } from "./scheduler.js";

export class SlowRead {
  /** When the held loop() began (the `t` it stamps lastInActivity with), while held. */
  private since: number | undefined;
  private gapAt = Number.POSITIVE_INFINITY;
  private readonly gap: TimerSlot;

  constructor(
    sched: Scheduler,
    private readonly timeoutMs: number,
    /** No byte for `timeoutMs`: readByte() gave up at `at` (the wait is over when this is called). */
    onGap: (at: number) => void,
  ) {
    this.gap = timerSlot(sched, () => {
      const at = this.gapAt;
      this.end();
      onGap(at);
    });
  }

  /** Held in readPacket(). */
  get held(): boolean {
    return this.since !== undefined;
  }

  /** The loop that began at `loopAt` starts reading a packet whose latest byte reached the chip at `lastByteAt`. */
  begin(loopAt: number, lastByteAt: number): void {
    this.since = loopAt;
    this.arm(lastByteAt);
  }

  /** More of the packet reached the chip at `at`: readByte() waits afresh from then. */
  more(at: number): void {
    if (this.since !== undefined) this.arm(at);
  }

  /** The wait is over (the packet is whole, or the session ended): when the held loop began. */
  end(): number | undefined {
    const since = this.since;
    if (since === undefined) return undefined;
    this.since = undefined;
    this.gapAt = Number.POSITIVE_INFINITY;
    this.gap.cancel();
    return since;
  }

  private arm(at: number): void {
    this.gapAt = at + this.timeoutMs;
    this.gap.set(this.gapAt);
  }
}
