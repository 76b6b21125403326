import { FleetRun } from "./fleet/run.js";
import { RealScheduler } from "./node/scheduler.js";
import { simFigures } from "./view/figures.js";
import { SimSource } from "./view/sim-source.js";
import { startWebServer } from "./web/server.js";
const nodes = Number(process.argv[2] ?? 1000);
const run = await FleetRun.start({ clock: "virtual", nodes, ratePerNodePerMin: 1, durationS: 36000, settleS: 0, seed: "m" });
run.virtual!.setPace({ speed: "max", paused: false });
const source = new SimSource(run);
const wall = new RealScheduler();
const server = await startWebServer({ source, kind: "sim", port: 0, token: "x".repeat(20), scheduler: wall, figures: simFigures(run) });
const get = async (p: string) => { const t = performance.now(); const r = await fetch(server.origin + p); await r.text(); return performance.now() - t; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
while (run.registeredAt.size < nodes) await sleep(100);
for (const speed of [1, 10, 100, "max"] as const) {
  run.virtual!.setPace({ speed, paused: false });
  const v0 = run.sched.now(); const w0 = wall.now();
  const lat: number[] = [];
  while (wall.now() - w0 < 3000) { lat.push(await get("/api/fleet")); await sleep(100); }
  const nl = await get("/api/nodes"); const ml = await get("/metrics");
  lat.sort((a, b) => a - b);
  console.log(`${nodes} nodes ×${speed}: ${((run.sched.now() - v0) / (wall.now() - w0)).toFixed(2)} virtual s per wall s; /api/fleet p50 ${lat[lat.length >> 1].toFixed(1)} ms max ${lat.at(-1)!.toFixed(1)} ms (n=${lat.length}); /api/nodes ${nl.toFixed(1)} ms; /metrics ${ml.toFixed(1)} ms`);
}
await server.close(); source.close(); run.stop(); run.cut(); await run.done; process.exit(0);
