/**
 * The fleet's in-sync fraction over time, as a bounded ring: memory stays fixed however long the
 * service runs, and the newest points are kept.
 */
import type { SeriesPoint } from "./types.js";

export class BoundedSeries {
  private readonly points: SeriesPoint[] = [];
  private start = 0;

  constructor(readonly capacity: number) {}

  push(p: SeriesPoint): void {
    const last = this.last();
    // Several changes at one instant are one point: the latest state at that time.
    if (last && last.t === p.t) {
      this.points[(this.start + this.points.length - 1) % this.capacity] = p;
      return;
    }
    if (this.points.length < this.capacity) {
      this.points.push(p);
      return;
    }
    this.points[this.start] = p;
    this.start = (this.start + 1) % this.capacity;
  }

  /** Puts `p` in the newest point's place (a point that only carried counts since overtaken). */
  replaceLast(p: SeriesPoint): void {
    if (this.points.length === 0) this.points.push(p);
    else this.points[(this.start + this.points.length - 1) % this.capacity] = p;
  }

  last(): SeriesPoint | undefined {
    return this.points.length === 0
      ? undefined
      : this.points[(this.start + this.points.length - 1) % this.capacity];
  }

  /** Oldest first. */
  toArray(): SeriesPoint[] {
    return [...this.points.slice(this.start), ...this.points.slice(0, this.start)];
  }
}
