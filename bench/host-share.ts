/**
 * What the host adds to a wall-clock sweep point: the paper scenario's fleet point (same seed and
 * tag as `twinfleet sweep`) run on the wall clock and on virtual time, in rounds, one clock after the
 * other. The virtual run is the model's own latency; the wall run's excess over it is the host's
 * share (worker threads, the in-memory transport, the broker thread, late event loops). Reports,
 * per loss level, the median over the rounds of the wall run's sync and echo p50 / p90, the virtual
 * run's, and their difference, with the load average before and after (a loaded machine adds more).
 *   npm run bench -- host-share [--scenario paper] [--loss 0,15] [--rounds 3] [--workers N]
 */
import { loadavg } from "node:os";
import { wholeNumberFlag } from "../cli/fleet-flags.js";
import { type PointResult, runPoint } from "../sweep/point.js";
import { loadScenario } from "../sweep/scenario.js";
import { parseNumberList } from "./calibrate-table.js";
import { arg, median, numArg, record } from "./record.js";

type Figures = { readonly p50: number; readonly p90: number };
interface Level {
  readonly lossPct: number;
  readonly wall: { readonly sync: Figures; readonly echo: Figures; readonly keptUp: number };
  readonly virtual: { readonly sync: Figures; readonly echo: Figures };
  readonly hostAddsMs: { readonly sync: Figures; readonly echo: Figures };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The median p50 and p90 of `kind` over the runs. */
function figures(runs: readonly PointResult[], kind: "sync" | "echo"): Figures {
  return {
    p50: round3(median(runs.map((r) => r[kind].p50))),
    p90: round3(median(runs.map((r) => r[kind].p90))),
  };
}

function diff(a: Figures, b: Figures): Figures {
  return { p50: round3(a.p50 - b.p50), p90: round3(a.p90 - b.p90) };
}

export async function hostShare(argv: string[]): Promise<void> {
  const scenario = loadScenario(arg(argv, "--scenario", "paper"));
  const losses = parseNumberList("--loss", arg(argv, "--loss", "0,15"), 0, 90);
  const rounds = wholeNumberFlag("--rounds", arg(argv, "--rounds", "3"), 1, 20) as number;
  const workersFlag = argv.includes("--workers") ? numArg(argv, "--workers", 0) : undefined;
  const load = { before: loadavg()[0] as number, after: 0 };
  const wall = new Map<number, PointResult[]>(losses.map((l) => [l, []]));
  const virtual = new Map<number, PointResult>();
  for (let r = 1; r <= rounds; r++) {
    for (const lossPct of losses) {
      const spec = { fleet: scenario.fleet, lossPct, tag: `loss-${lossPct}` };
      console.error(`round ${r}/${rounds}, ${lossPct} % loss: wall clock (load ${loadavg()[0]?.toFixed(2)})`);
      wall
        .get(lossPct)
        ?.push(await runPoint({ ...spec, ...(workersFlag !== undefined ? { workers: workersFlag } : {}) }));
      // The virtual run repeats itself exactly: once is enough.
      if (!virtual.has(lossPct)) virtual.set(lossPct, await runPoint({ ...spec, clock: "virtual" }));
    }
  }
  load.after = loadavg()[0] as number;
  const levels: Level[] = losses.map((lossPct) => {
    const w = wall.get(lossPct) ?? [];
    const v = virtual.get(lossPct) as PointResult;
    const ws = figures(w, "sync");
    const we = figures(w, "echo");
    const vs = figures([v], "sync");
    const ve = figures([v], "echo");
    return {
      lossPct,
      wall: { sync: ws, echo: we, keptUp: w.filter((p) => p.sim.keptUp).length },
      virtual: { sync: vs, echo: ve },
      hostAddsMs: { sync: diff(ws, vs), echo: diff(we, ve) },
    };
  });
  for (const l of levels)
    console.error(
      `${l.lossPct} % loss: sync p50 ${l.wall.sync.p50} ms wall, ${l.virtual.sync.p50} ms virtual (host +${l.hostAddsMs.sync.p50}); ` +
        `echo p50 ${l.wall.echo.p50} / ${l.virtual.echo.p50} (host +${l.hostAddsMs.echo.p50})`,
    );
  record("host-share", {
    scenario: scenario.name,
    nodes: scenario.fleet.nodes,
    rounds,
    ...(workersFlag !== undefined ? { workers: workersFlag } : {}),
    loadAverage: { before: round3(load.before), after: round3(load.after) },
    levels,
  });
}
