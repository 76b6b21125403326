/**
 * The convergence history's writes failing (twins/history-keeper.ts: the file refused, a directory in
 * its place, a permission taken away) were logged only: `/healthz` said `{"ok":true}` and no metric
 * moved. The history is a view, not state, so `/healthz` stays 200 (a restart would lose the history
 * held, and nothing a command changed is at stake), but lists it under `degraded`, and
 * `twinfleet_twins_history_written` is 0 meanwhile. A real HTTP server on port 0; the twins service
 * is a stand-in whose history fails or not, read through twinsFigures and the view's wording.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import type { HistoryUnwritten } from "../../twins/history-keeper.js";
import type { Twins } from "../../twins/index.js";
import { twinsFigures } from "../../view/figures.js";
import { historyHealth } from "../../view/live-faults.js";
import { type ConsoleSource, NO_CAPABILITIES } from "../../view/source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, parsePrometheus } from "./helpers.js";

const TOKEN = "degraded-token-0123456789abcdef";
const sched = new FakeScheduler(0);
let unwritten: HistoryUnwritten | undefined;

const twins = {
  on: () => {},
  waiting: undefined,
  unsavedSince: undefined,
  historyUnwritten: () => unwritten,
  get: () => undefined,
  convergence: () => ({ followers: [] }),
  otherServices: [],
  badInput: () => ({ byReason: {} }),
};

const source = {
  capabilities: NO_CAPABILITIES,
  nodes: () => [],
  convergence: () => ({ inSync: 0, fraction: 1, known: 0, online: 0 }),
  faults: () => [],
  health: () => undefined,
  degraded: () => historyHealth(sched.now(), unwritten),
  on: () => () => {},
} as unknown as ConsoleSource;

let server: WebServer;
beforeAll(async () => {
  server = await startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: TOKEN,
    scheduler: sched,
    figures: twinsFigures(twins as unknown as Twins, () => sched.now()),
  });
});
afterAll(async () => {
  await server?.close();
});

const written = async () =>
  parsePrometheus((await call(server, "GET", "/metrics", { token: TOKEN })).text).get(
    "twinfleet_twins_history_written",
  );

describe("the convergence history unwritten, on /healthz and /metrics", () => {
  it("is listed under degraded (200) and gauged 0 while its writes fail, and gone once one succeeds", async () => {
    expect((await call(server, "GET", "/healthz")).json).toEqual({ ok: true });
    expect(await written()).toBe(1);
    const file = "/data/convergence-history.jsonl";
    unwritten = { since: 0, file, cause: `EACCES: permission denied, open '${file}'` };
    sched.advance(12_000);
    const r = await call(server, "GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      ok: true,
      degraded: [
        `convergence history ${file} cannot be written (EACCES: permission denied, open '${file}') for 12 s: the chart's history is kept in memory only, and a restart loses what it has gained since`,
      ],
    });
    expect(await written()).toBe(0);
    unwritten = undefined;
    expect((await call(server, "GET", "/healthz")).json).toEqual({ ok: true });
    expect(await written()).toBe(1);
  });
});
