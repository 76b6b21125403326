/**
 * The metric names a PromQL query reads, and what a Prometheus text scrape serves: the pieces the
 * checks of docs/prometheus-alerts.yml and docs/grafana-twinfleet.json share (web/test/metric-catalogue.test.ts,
 * web/test/dashboard.test.ts). A query's names are checked against a catalogue of names, types and labels.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const ROOT = join(import.meta.dirname, "../..");

export interface Served {
  readonly type: string;
  readonly labels: ReadonlySet<string>;
}
export type Catalogue = ReadonlyMap<string, Served>;

/** Every metric a scrape's text serves, with its type (`# TYPE`) and label names (the target's job and instance added). */
export function scrapedCatalogue(text: string): Catalogue {
  const out = new Map<string, { type: string; labels: Set<string> }>();
  const entry = (name: string) => {
    const e = out.get(name) ?? { type: "untyped", labels: new Set(["job", "instance"]) };
    out.set(name, e);
    return e;
  };
  for (const line of text.split("\n")) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typed) entry(typed[1]!).type = typed[2]!;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!sample) continue;
    // A histogram's series are named for it: `_bucket` (with `le`), `_sum`, `_count`.
    const h = /^(.*)_(bucket|sum|count)$/.exec(sample[1]!);
    const name = h && out.get(h[1]!)?.type === "histogram" ? h[1]! : sample[1]!;
    for (const [, label] of (sample[2] ?? "").matchAll(/(\w+)="(?:[^"\\]|\\.)*"/g))
      if (label !== "le") entry(name).labels.add(label!);
  }
  return out;
}

/** Several catalogues as one (a name served by two has one type in both). */
export function merged(...cats: Catalogue[]): Catalogue {
  const out = new Map<string, Served>();
  for (const cat of cats)
    for (const [name, s] of cat) {
      const had = out.get(name);
      out.set(name, { type: s.type, labels: new Set([...(had?.labels ?? []), ...s.labels]) });
    }
  return out;
}

/** The series a name stands for: itself, or a histogram's `_bucket` (with `le`), `_sum` or `_count`. */
export function lookup(cat: Catalogue, name: string): Served | undefined {
  const own = cat.get(name);
  if (own) return own;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const h = m ? cat.get(m[1]!) : undefined;
  if (!m || h?.type !== "histogram") return undefined;
  return { type: "counter", labels: new Set([...h.labels, ...(m[2] === "bucket" ? ["le"] : [])]) };
}

/** PromQL's keywords, and its aggregations, which may put `by (…)` before their parenthesis. */
const KEYWORDS = new Set(
  [
    ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"],
    [
      "sum",
      "min",
      "max",
      "avg",
      "group",
      "stddev",
      "stdvar",
      "count",
      "count_values",
      "bottomk",
      "topk",
      "quantile",
    ],
  ].flat(),
);

/**
 * Every metric name a query reads, whatever it starts with (`up` too): each identifier outside label
 * matchers, ranges, strings and `by (…)` lists that is not a function called, a keyword or a number.
 */
export function metricsRead(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1 ()");
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g))
    if (!KEYWORDS.has(m[1]!) && !/^(inf|nan)$/i.test(m[1]!)) names.add(m[1]!);
  return [...names];
}

/** What is wrong with one query against the metrics served (empty: nothing). Prometheus's own `up` is always there. */
export function problems(expr: string, cat: Catalogue): string[] {
  const out: string[] = [];
  const labelsOf = new Set<string>();
  const withUp = new Map(cat).set("up", { type: "gauge", labels: new Set(["job", "instance"]) });
  for (const name of metricsRead(expr)) if (!lookup(withUp, name)) out.push(`${name} is not served`);
  for (const [, name, matchers] of expr.matchAll(/\b([a-zA-Z_:][\w:]*)(\{[^}]*\})/g)) {
    const s = lookup(withUp, name!);
    if (!s) continue;
    for (const [, label] of matchers!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g))
      if (!s.labels.has(label!)) out.push(`${name} has no label ${label}`);
  }
  for (const name of metricsRead(expr)) for (const l of lookup(withUp, name)?.labels ?? []) labelsOf.add(l);
  for (const [, fn, name] of expr.matchAll(/\b(rate|irate|increase)\(\s*([a-zA-Z_:][\w:]*)/g)) {
    const s = lookup(withUp, name!);
    if (s && s.type !== "counter") out.push(`${fn}() over ${name}, a ${s.type}`);
  }
  for (const [, list] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const l of list!.split(",").map((x) => x.trim()))
      if (l && !labelsOf.has(l)) out.push(`by/without (${l}): no metric of the query has it`);
  return out;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
}

/** The alerts of docs/prometheus-alerts.yml, in order. */
export function alertRules(): AlertRule[] {
  const file = parse(readFileSync(join(ROOT, "docs/prometheus-alerts.yml"), "utf8")) as {
    groups: { rules: AlertRule[] }[];
  };
  return file.groups.flatMap((g) => g.rules);
}

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly uid?: string };
}
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
  readonly fieldConfig?: {
    readonly defaults: {
      readonly thresholds?: { readonly steps: readonly { readonly value: number | null }[] };
    };
  };
}
export interface Dashboard {
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly query?: unknown }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(join(ROOT, "docs/grafana-twinfleet.json"), "utf8")) as Dashboard;
}

/** A panel's queries (a row has none). */
export const exprsOf = (p: Panel): string[] => (p.targets ?? []).map((t) => t.expr);
