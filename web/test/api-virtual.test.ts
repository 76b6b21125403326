/**
 * The web server over a run on virtual time (FleetRun with `clock: "virtual"`, 8 ideal nodes): the
 * pace set over HTTP (pause, resume, a speed) with the bearer token, refused without it (401) and
 * with a bad body (400 naming the field); the event stream pushing the pace change and the run's
 * time; the times in /api/nodes and the frames on the run's clock; virtual time going about ten times
 * as fast at ×10 as at ×1, measured against the wall clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetRun } from "../../fleet/run.js";
import { RealScheduler } from "../../node/scheduler.js";
import { simFigures } from "../../view/figures.js";
import { SimSource } from "../../view/sim-source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, parsePrometheus, SseClient, WAITING_TEST_MS, whenChanged } from "./helpers.js";

const TOKEN = "test-token-virtual-0123456789";
const NODES = 8;
let run: FleetRun;
let source: SimSource;
let server: WebServer;
/** The wall clock the server's frames run on (and this test's measure of wall time). */
const wall = new RealScheduler();

beforeAll(async () => {
  run = await FleetRun.start({
    clock: "virtual",
    nodes: NODES,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 6,
    durationS: 36_000,
    settleS: 0,
    profile: "ideal",
    seed: "web-virtual",
  });
  // Fast enough to register in a moment, slow enough not to race through the run.
  run.virtual?.setPace({ speed: 100, paused: false });
  source = new SimSource(run);
  server = await startWebServer({
    source,
    kind: "sim",
    port: 0,
    token: TOKEN,
    scheduler: wall,
    figures: simFigures(run),
  });
  await whenChanged(
    source,
    () => source.nodes().filter((n) => n.online && n.sync === "in-sync").length === NODES,
    `${NODES} nodes registered, online and in sync`,
    20_000,
  );
}, WAITING_TEST_MS);

afterAll(async () => {
  await server?.close();
  source?.close();
  run?.virtual?.setPace({ speed: "max", paused: false });
  run?.stop();
  run?.cut();
  await run?.done;
});

/** POSTs a pace; `token: null` sends none. */
const setPace = (body: unknown, token: string | null = TOKEN) =>
  call(server, "POST", "/api/fleet/pace", { body, ...(token !== null ? { token } : {}) });

/** Virtual ms the run goes per wall ms over `wallMs` of wall time, read through the API. */
async function rate(wallMs: number): Promise<number> {
  const v0 = (await call(server, "GET", "/api/fleet")).json.now as number;
  const w0 = wall.now();
  await new Promise((r) => setTimeout(r, wallMs));
  const v1 = (await call(server, "GET", "/api/fleet")).json.now as number;
  return (v1 - v0) / (wall.now() - w0);
}

describe("a run on virtual time over HTTP", { timeout: WAITING_TEST_MS }, () => {
  it("describes its pace and the time it has got to", async () => {
    const r = await call(server, "GET", "/api/fleet");
    expect(r.status).toBe(200);
    expect(r.json.capabilities).toMatchObject({ pace: true, press: true });
    expect(r.json.pace).toEqual({ speed: 100, paused: false });
    expect(r.json.now as number).toBeGreaterThan(0);
    expect(r.json.now as number).toBeLessThanOrEqual(run.sched.now());
  });

  it("refuses a pace change without the token, and changes nothing", async () => {
    const r = await setPace({ paused: true }, null);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await setPace({ paused: true }, "not-the-token-0123456789");
    expect(wrong.status).toBe(401);
    expect(run.virtual?.pace).toEqual({ speed: 100, paused: false });
  });

  it("names the body field that is wrong", async () => {
    const zero = await setPace({ speed: 0 });
    expect(zero.status).toBe(400);
    expect(zero.json).toMatchObject({ status: 400, field: "body.speed" });
    expect(zero.json.detail).toMatch(/^body\.speed: must be a number of virtual seconds per second/);
    expect((await setPace({ speed: "fast" })).json.field).toBe("body.speed");
    expect((await setPace({ speed: 1e9 })).json.field).toBe("body.speed");
    const paused = await setPace({ paused: "yes" });
    expect(paused.json).toMatchObject({ status: 400, field: "body.paused" });
    const empty = await setPace({});
    expect(empty.json).toMatchObject({
      status: 400,
      field: "body",
      detail: "body: give speed, paused or both",
    });
    expect((await setPace({ speed: 1, colour: "red" })).json.field).toBe("body.colour");
    expect(run.virtual?.pace).toEqual({ speed: 100, paused: false });
  });

  it("pauses and resumes virtual time, pushing the change and the time on the event stream", async () => {
    const sse = new SseClient(server.origin, "/api/events");
    try {
      await sse.next((e) => e.event === "hello");
      await sse.next((e) => e.event === "clock");
      const r = await setPace({ paused: true });
      expect(r.status).toBe(200);
      expect(r.json.pace).toEqual({ speed: 100, paused: true });
      const pushed = await sse.next(
        (e) => e.event === "fleet" && (e.data as { pace: { paused: boolean } }).pace.paused,
      );
      expect((pushed.data as { pace: unknown }).pace).toEqual({ speed: 100, paused: true });
      // Paused, the run's time stands still while wall time goes on (and the frames keep coming).
      const at = run.sched.now();
      expect(await rate(300)).toBe(0);
      expect(run.sched.now()).toBe(at);
      const clocks = sse.events.filter((e) => e.event === "clock").length;
      const resumed = await setPace({ paused: false, speed: 10 });
      expect(resumed.json.pace).toEqual({ speed: 10, paused: false });
      // The next clock frame carries the run's time, moving again.
      const moving = await sse.next(
        (e) => e.event === "clock" && (e.data as { now: number }).now > at && sse.events.indexOf(e) >= clocks,
      );
      expect((moving.data as { pace: unknown }).pace).toEqual({ speed: 10, paused: false });
      expect((moving.data as { now: number }).now).toBeLessThanOrEqual(run.sched.now());
    } finally {
      sse.close();
    }
  });

  it("goes about ten times as fast at ×10 as at ×1, against the wall clock", async () => {
    await setPace({ speed: 1, paused: false });
    const one = await rate(1000);
    await setPace({ speed: 10 });
    const ten = await rate(1000);
    // Each within 20 % of its pace (the pace is checked every 50 ms of wall time). Not their ratio: a
    // busy host that holds the ×1 second back a little (a run that falls behind does not race to
    // catch up) would push a correct ×10 out of bounds.
    const measured = `×1: ${one.toFixed(3)}, ×10: ${ten.toFixed(3)} virtual ms per wall ms`;
    expect(one, measured).toBeGreaterThan(0.8);
    expect(one, measured).toBeLessThan(1.2);
    expect(ten, measured).toBeGreaterThan(8);
    expect(ten, measured).toBeLessThan(12);
  });

  it("stamps /api/nodes, the frames and /metrics with the run's clock", async () => {
    await setPace({ speed: 100, paused: false });
    await whenChanged(source, () => run.sched.now() > 120_000, "two virtual minutes");
    await setPace({ paused: true });
    const dateNow = run.sched.wallNow();
    const epoch = dateNow - run.sched.now();
    const nodes = (await call(server, "GET", "/api/nodes")).json.nodes as { changedAt?: number }[];
    const stamps = nodes.map((n) => n.changedAt).filter((t): t is number => t !== undefined);
    expect(stamps.length).toBeGreaterThan(0);
    for (const t of stamps) {
      expect(t).toBeGreaterThanOrEqual(Math.floor(epoch));
      expect(t).toBeLessThanOrEqual(Math.ceil(dateNow));
    }
    // Two virtual minutes in, the run's dates are well ahead of the wall clock's.
    expect(dateNow - Date.now()).toBeGreaterThan(60_000);
    const fleet = await call(server, "GET", "/api/fleet");
    expect(fleet.json.now).toBe(run.sched.now());
    const metrics = parsePrometheus((await call(server, "GET", "/metrics")).text);
    expect(metrics.get("twinfleet_nodes_online")).toBe(NODES);
    expect(metrics.get("twinfleet_sync_latency_seconds_count")).toBeGreaterThan(0);
    await setPace({ paused: false });
  });
});
