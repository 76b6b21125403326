/**
 * The sketch's button debounce (`onButton` in firmware/twinfleet_node/twinfleet_node.ino): the
 * interrupt reads millis() and ignores a press less than `TF_DEBOUNCE_MS` (the profile's
 * `sketch.debounceMs`) after the last press it took — measured from that press, not from the last
 * edge, so a bounce train longer than the window still yields a press every window. millis() counts
 * whole ms from power-on and the kept time (`lastPressAt`, 0) is lost with the power, as in the sketch.
 *
 * Nor is a press taken before setup() attaches the interrupt, its last line, after Ethernet.begin's
 * reset wait (the profile's `w5100.resetWaitMs`, 560 ms on the shield): until then the pin's falling
 * edge raises nothing (INT0 is in its reset state, level-triggered and masked, which keeps no flag), so a
 * press in the first moment after power comes back is lost on a board.
 */
import type { NodeId } from "../protocol/index.js";
import type { NodeEventSink } from "./metrics.js";

export class Debounce {
  private bootAt = 0;
  private lastPressAt = 0;

  /**
   * `sink` hears each press the interrupt ignored (a `press-ignored` event of `node`); `setupMs`: how
   * long after power-on the interrupt is attached.
   */
  constructor(
    private readonly ms: number,
    private readonly node: NodeId,
    private readonly sink: NodeEventSink,
    private readonly setupMs = 0,
  ) {}

  /** Power on at `at`: millis() starts again from 0, and so does the last press's time. */
  powerOn(at: number): void {
    this.bootAt = at;
    this.lastPressAt = 0;
  }

  /** The interrupt at `at`: whether it takes the press (false: ignored, and `ignored` was told). */
  take(at: number): boolean {
    if (at - this.bootAt < this.setupMs) {
      this.sink({ type: "press-ignored", node: this.node, at });
      return false;
    }
    if (this.ms <= 0) return true;
    const now = Math.floor(at - this.bootAt);
    if (now - this.lastPressAt < this.ms) {
      this.sink({ type: "press-ignored", node: this.node, at });
      return false;
    }
    this.lastPressAt = now;
    return true;
  }
}
