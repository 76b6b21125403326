/**
 * The calibration benchmark's pure parts: its flags (loss and rate lists), the nftables ruleset
 * that drops packets at random on the broker's port, percentiles of latency samples, and the
 * model-against-kernel table with its ratios.
 */

/** A comma-separated list of numbers in [min, max], e.g. "5,10,15"; bad input names the flag. */
export function parseNumberList(flag: string, text: string, min: number, max: number): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s === "")) {
    throw new Error(`${flag}: expected a comma-separated list of numbers, got "${text}"`);
  }
  return parts.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new Error(`${flag}: "${s}" is not a number from ${min} to ${max}`);
    }
    return n;
  });
}

/**
 * An nftables ruleset (for `nft -f -`) dropping `pct` % of TCP packets to and from `port`, each
 * packet drawn on its own: `numgen random mod 100 < pct`. On loopback every packet passes the
 * input hook once, so each direction loses `pct` %.
 */
export function nftRuleset(table: string, port: number, pct: number): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(table)) throw new Error(`nft table "${table}": use a-z 0-9 _`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`nft port ${port}: 1-65535`);
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
    throw new Error(`nft loss ${pct}: a whole percent from 0 to 100 (numgen draws 0-99)`);
  }
  return [
    `table inet ${table} {`,
    "  chain input {",
    "    type filter hook input priority 0; policy accept;",
    `    tcp dport ${port} numgen random mod 100 < ${pct} drop`,
    `    tcp sport ${port} numgen random mod 100 < ${pct} drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Nearest-rank percentile (q in (0, 1]) of `sorted` (ascending); NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Side {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Not received within 5 s of the publish (per run: the mean when `runs` > 1). */
  readonly lost: number;
  /** Runs pooled into this side (seeds of the model); 1 when absent. */
  readonly runs?: number;
}

/**
 * Several runs of one level as one side: the mean of their percentiles and of their lost counts
 * (one decimal), their samples summed. One run's percentiles at 20–25 % loss move by ±30 % from
 * seed to seed (its p99 is its ~25th-largest sample), so the model's side is several seeds.
 */
export function pool(sides: readonly Side[]): Side {
  if (sides.length === 0) throw new Error("pool: no runs to pool");
  const mean = (f: (s: Side) => number) => sides.reduce((a, s) => a + f(s), 0) / sides.length;
  return {
    samples: sides.reduce((a, s) => a + s.samples, 0),
    p50Ms: mean((s) => s.p50Ms),
    p90Ms: mean((s) => s.p90Ms),
    p99Ms: mean((s) => s.p99Ms),
    lost: Math.round(mean((s) => s.lost) * 10) / 10,
    runs: sides.length,
  };
}

/** p50/p90/p99 of delivered latencies, and how many of them (plus `lost`) there were. */
export function summarize(latenciesMs: readonly number[], lost: number): Side {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return {
    samples: s.length,
    p50Ms: percentile(s, 0.5),
    p90Ms: percentile(s, 0.9),
    p99Ms: percentile(s, 0.99),
    lost,
  };
}

export interface Row {
  readonly lossPct: number;
  readonly ratePerS: number;
  readonly real: Side;
  readonly model: Side;
  /** model ÷ real at each percentile. */
  readonly ratio: { readonly p50: number; readonly p90: number; readonly p99: number };
  /** The kernel's per-message figures (publish → partner's receive), where the run recorded them. */
  readonly realPerMessage?: Side;
}

export function compare(lossPct: number, ratePerS: number, real: Side, model: Side): Row {
  const r = (m: number, k: number) => (k > 0 ? Math.round((m / k) * 100) / 100 : Number.NaN);
  return {
    lossPct,
    ratePerS,
    real,
    model,
    ratio: {
      p50: r(model.p50Ms, real.p50Ms),
      p90: r(model.p90Ms, real.p90Ms),
      p99: r(model.p99Ms, real.p99Ms),
    },
  };
}

/**
 * What misses the target: model within ±20 % of the kernel at p90 and p99, and at p50 where the
 * kernel's exceeds 10 ms; lost within ±2 or ±50 %. Empty when the row meets it.
 */
export function misses(w: Row): string[] {
  const out: string[] = [];
  const off = (m: number, k: number) => Math.abs(m / k - 1) > 0.2;
  if (w.real.p50Ms > 10 && off(w.model.p50Ms, w.real.p50Ms)) out.push("p50");
  if (off(w.model.p90Ms, w.real.p90Ms)) out.push("p90");
  if (off(w.model.p99Ms, w.real.p99Ms)) out.push("p99");
  const d = Math.abs(w.model.lost - w.real.lost);
  if (d > 2 && d > 0.5 * w.real.lost) out.push("lost");
  return out;
}

function ms(x: number): string {
  if (Number.isNaN(x)) return "–";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

function runs(s: Side): string {
  return s.runs !== undefined && s.runs > 1 ? ` (${s.runs} runs)` : "";
}

/** The Markdown table docs/device-model.md carries. */
export function markdownTable(rows: readonly Row[]): string {
  const head = [
    "| loss | rate/s | real samples | real p50 / p90 / p99 ms | real lost | model samples | model p50 / p90 / p99 ms | model lost | model ÷ real p50 / p90 / p99 | misses |",
    "| ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | --- | --- |",
  ];
  const body = rows.map((w) => {
    const side = (s: Side) => `${ms(s.p50Ms)} / ${ms(s.p90Ms)} / ${ms(s.p99Ms)}`;
    const ratio = [w.ratio.p50, w.ratio.p90, w.ratio.p99].map((x) => (Number.isNaN(x) ? "–" : x.toFixed(2)));
    return `| ${w.lossPct} % | ${w.ratePerS} | ${w.real.samples} | ${side(w.real)} | ${w.real.lost} | ${w.model.samples}${runs(w.model)} | ${side(w.model)} | ${w.model.lost} | ${ratio.join(" / ")} | ${misses(w).join(", ") || "–"} |`;
  });
  return [...head, ...body].join("\n");
}
