/**
 * Percentiles from an HDR histogram (hdr-histogram-js), in the units the reports use. A percentile
 * is at most the largest value recorded: the histogram answers with the top of a value's bucket,
 * which read `p50 17.07 s max 17.06 s`. A value past the highest trackable is recorded as that
 * (hdr-histogram throws, and ended the run).
 */
import * as hdr from "hdr-histogram-js";

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Records non-negative values with `scale` integer steps per unit (1000 → µs resolution for ms). */
export class Distribution {
  private readonly h: hdr.Histogram;
  private readonly top: number;

  constructor(
    private readonly scale = 1000,
    highest = 3_600_000,
  ) {
    this.top = Math.ceil(highest * scale);
    this.h = hdr.build({
      bitBucketSize: 64,
      lowestDiscernibleValue: 1,
      highestTrackableValue: Math.ceil(highest * scale),
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
  }

  record(value: number): void {
    this.h.recordValue(Math.min(this.top, Math.max(0, Math.round(value * this.scale))));
  }

  /** Adds every value `other` recorded (same scale). */
  add(other: Distribution): void {
    if (other.scale !== this.scale)
      throw new Error(`Distribution.add: scale ${other.scale} is not ${this.scale}`);
    this.h.add(other.h);
  }

  /** The recorded values as hdr-histogram's compressed base64 (for a shard report); see addEncoded. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** Adds every value of an encoded histogram of the same scale; throws on a string that is not one. */
  addEncoded(base64: string): void {
    this.h.add(hdr.decodeFromCompressedBase64(base64, 64, false));
  }

  get count(): number {
    return this.h.totalCount;
  }

  percentile(p: number): number {
    return this.h.totalCount === 0
      ? 0
      : Math.min(this.h.getValueAtPercentile(p), this.h.maxValue) / this.scale;
  }

  summary(): Summary {
    const empty = this.h.totalCount === 0;
    return {
      count: this.h.totalCount,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: empty ? 0 : this.h.maxValue / this.scale,
      mean: empty ? 0 : this.h.mean / this.scale,
    };
  }
}

/** Fixed-width bucket counts for plots (the HDR histogram answers percentiles, this draws bars). */
export class Buckets {
  readonly counts: number[];
  overflow = 0;

  constructor(
    readonly width: number,
    readonly upTo: number,
  ) {
    this.counts = new Array(Math.ceil(upTo / width)).fill(0);
  }

  record(value: number): void {
    const i = Math.floor(Math.max(0, value) / this.width);
    if (i < this.counts.length) this.counts[i] = (this.counts[i] ?? 0) + 1;
    else this.overflow++;
  }
}
