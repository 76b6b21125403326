/**
 * The calibration benchmark's pure parts: its flags (loss and rate lists), the nftables ruleset
 * that drops packets at random on the broker's port, percentiles of latency samples, the
 * model-against-kernel table with its ratios, and several recorded kernel runs pooled into one
 * side with the kernel's own run-to-run spread (each run judged against the pool of the others).
 */
import { UsageError } from "../cli/errors.js";

/** A comma-separated list of numbers in [min, max], e.g. "5,10,15"; bad input names the flag. */
export function parseNumberList(flag: string, text: string, min: number, max: number): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s === "")) {
    throw new UsageError(`${flag}: expected a comma-separated list of numbers, got "${text}"`);
  }
  return parts.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${flag}: "${s}" is not a number from ${min} to ${max}`);
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
  /** Runs pooled into this side (seeds of the model, recorded kernel runs); 1 when absent. */
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
    return `| ${w.lossPct} % | ${w.ratePerS} | ${w.real.samples}${runs(w.real)} | ${side(w.real)} | ${w.real.lost} | ${w.model.samples}${runs(w.model)} | ${side(w.model)} | ${w.model.lost} | ${ratio.join(" / ")} | ${misses(w).join(", ") || "–"} |`;
  });
  return [...head, ...body].join("\n");
}

/** How many judged rows meet every clause of the target, and how many miss each clause. */
export interface TargetCount {
  readonly inTarget: number;
  readonly of: number;
  readonly clauseMisses: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly lost: number;
  };
}

export function targetCount(missed: readonly (readonly string[])[]): TargetCount {
  const n = (c: string) => missed.filter((m) => m.includes(c)).length;
  return {
    inTarget: missed.filter((m) => m.length === 0).length,
    of: missed.length,
    clauseMisses: { p50: n("p50"), p90: n("p90"), p99: n("p99"), lost: n("lost") },
  };
}

/** "6 of 10 in target; clause misses p50 / p90 / p99 / lost: 1 / 2 / 3 / 4". */
export function targetLine(c: TargetCount): string {
  const m = c.clauseMisses;
  return `${c.inTarget} of ${c.of} in target; clause misses p50 / p90 / p99 / lost: ${m.p50} / ${m.p90} / ${m.p99} / ${m.lost}`;
}

/** One recorded kernel run (a `calibrate` result file), as `--real` reads it. */
export interface KernelRun {
  readonly file: string;
  readonly clients: number;
  readonly seconds: number;
  /** `--traffic` of the run; "plain" for a file recorded before the flag existed. */
  readonly traffic: string;
  readonly rows: readonly { readonly lossPct: number; readonly ratePerS: number; readonly real: Side }[];
}

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Checks a parsed result file; bad input names the file and what is wrong with it. */
export function kernelRun(file: string, json: unknown): KernelRun {
  const bad = (what: string) => new Error(`--real ${file}: ${what}`);
  const o = (json ?? {}) as { clients?: unknown; seconds?: unknown; traffic?: unknown; rows?: unknown };
  if (!isNum(o.clients) || !isNum(o.seconds) || !Array.isArray(o.rows)) {
    throw bad("not a calibrate result (needs clients, seconds and rows)");
  }
  if (o.traffic !== undefined && o.traffic !== "plain" && o.traffic !== "protocol") {
    throw bad(`traffic "${String(o.traffic)}" is neither plain nor protocol`);
  }
  const seen = new Set<string>();
  const rows = o.rows.map((r: { lossPct?: unknown; ratePerS?: unknown; real?: Partial<Side> }, i: number) => {
    const s = r.real;
    if (!isNum(r.lossPct) || !isNum(r.ratePerS) || s === undefined)
      throw bad(`row ${i} has no lossPct, ratePerS or real`);
    if (![s.samples, s.p50Ms, s.p90Ms, s.p99Ms, s.lost].every(isNum)) {
      throw bad(
        `row ${i} (${r.lossPct} %, ${r.ratePerS}/s): real needs samples, p50Ms, p90Ms, p99Ms and lost`,
      );
    }
    const key = `${r.lossPct}/${r.ratePerS}`;
    if (seen.has(key)) throw bad(`${r.lossPct} %, ${r.ratePerS}/s appears twice`);
    seen.add(key);
    const real: Side = {
      samples: s.samples,
      p50Ms: s.p50Ms,
      p90Ms: s.p90Ms,
      p99Ms: s.p99Ms,
      lost: s.lost,
    } as Side;
    return { lossPct: r.lossPct, ratePerS: r.ratePerS, real };
  });
  return { file, clients: o.clients, seconds: o.seconds, traffic: (o.traffic as string) ?? "plain", rows };
}

/** One level-rate of several kernel runs: each run's side, and their pool. */
export interface KernelLevel {
  readonly lossPct: number;
  readonly ratePerS: number;
  readonly singles: readonly Side[];
  readonly files: readonly string[];
  /** `pool(singles)`: its `runs` says how many kernel runs the row pools. */
  readonly real: Side;
}

/**
 * Several kernel runs pooled per level-rate as the model's seeds are (`pool`). Every run must have
 * the first's clients and seconds (else the error names the file and the mismatch); a level-rate
 * pools the runs that measured it, so a row may pool fewer runs than were given. Ordered by rate,
 * then loss, as `calibrate` runs them.
 */
export function poolKernel(runs: readonly KernelRun[]): {
  clients: number;
  seconds: number;
  levels: KernelLevel[];
} {
  const first = runs[0];
  if (first === undefined) throw new Error("--real: no kernel runs given");
  const files = new Set<string>();
  for (const r of runs) {
    if (files.has(r.file)) throw new Error(`--real ${r.file}: given twice`);
    files.add(r.file);
    for (const k of ["clients", "seconds"] as const) {
      if (r[k] !== first[k]) {
        throw new Error(
          `--real ${r.file}: ${k} ${r[k]}, where ${first.file} has ${first[k]}: runs pooled must match`,
        );
      }
    }
  }
  const keys = new Map<string, { lossPct: number; ratePerS: number }>();
  for (const r of runs) for (const w of r.rows) keys.set(`${w.lossPct}/${w.ratePerS}`, w);
  const levels = [...keys.values()]
    .sort((a, b) => a.ratePerS - b.ratePerS || a.lossPct - b.lossPct)
    .map(({ lossPct, ratePerS }) => {
      const have = runs.flatMap((r) => {
        const w = r.rows.find((x) => x.lossPct === lossPct && x.ratePerS === ratePerS);
        return w === undefined ? [] : [{ file: r.file, side: w.real }];
      });
      const singles = have.map((h) => h.side);
      return { lossPct, ratePerS, singles, files: have.map((h) => h.file), real: pool(singles) };
    });
  return { clients: first.clients, seconds: first.seconds, levels };
}

/** One single kernel run of a level judged against the pool of the other runs of that level. */
export interface SpreadRun {
  readonly file: string;
  readonly row: Row;
  readonly misses: string[];
}

/**
 * The kernel's own spread: for each level-rate with two or more runs, each run judged against the
 * pool of the others by the model's target (`misses`) — the noise floor no model can beat.
 */
export function kernelSpread(levels: readonly KernelLevel[]): SpreadRun[] {
  const out: SpreadRun[] = [];
  for (const l of levels) {
    if (l.singles.length < 2) continue;
    l.singles.forEach((one, i) => {
      const others = pool(l.singles.filter((_, j) => j !== i));
      const row = compare(l.lossPct, l.ratePerS, others, one);
      out.push({ file: l.files[i] as string, row, misses: misses(row) });
    });
  }
  return out;
}

/** The spread as a Markdown table: one row per level-rate, each run ÷ the pool of the others. */
export function spreadTable(spread: readonly SpreadRun[]): string {
  const head = [
    "| loss | rate/s | kernel runs | each run ÷ the others' pool p50 | p90 | p99 | each run's lost (others' mean) | runs in target | misses |",
    "| ---: | ---: | ---: | --- | --- | --- | --- | ---: | --- |",
  ];
  const groups = new Map<string, SpreadRun[]>();
  for (const s of spread) {
    const k = `${s.row.lossPct}/${s.row.ratePerS}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const range = (xs: number[]) => {
    const ok = xs.filter((x) => !Number.isNaN(x));
    if (ok.length === 0) return "–";
    const [lo, hi] = [Math.min(...ok), Math.max(...ok)];
    return lo === hi ? lo.toFixed(2) : `${lo.toFixed(2)}–${hi.toFixed(2)}`;
  };
  const body = [...groups.values()].map((g) => {
    const w = (g[0] as SpreadRun).row;
    const lost = g.map((s) => `${s.row.model.lost} (${s.row.real.lost})`).join(", ");
    const c = targetCount(g.map((s) => s.misses));
    const m = Object.entries(c.clauseMisses)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ×${n}`);
    return `| ${w.lossPct} % | ${w.ratePerS} | ${g.length} | ${range(g.map((s) => s.row.ratio.p50))} | ${range(g.map((s) => s.row.ratio.p90))} | ${range(g.map((s) => s.row.ratio.p99))} | ${lost} | ${c.inTarget} of ${g.length} | ${m.join(", ") || "–"} |`;
  });
  return [...head, ...body].join("\n");
}
