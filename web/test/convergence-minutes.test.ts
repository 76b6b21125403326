/**
 * `GET /api/convergence/minutes`: the convergence history's long tier (twins/minute-tier.ts), the
 * last 48 h a minute at a time, beside /api/convergence's last few minutes; a fleet with no twins
 * service keeping one (the demo) is told so with a 404 naming why.
 */
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import type { MinutePoint } from "../../twins/index.js";
import { DemoSource } from "../../view/demo-source.js";
import { startWebServer, type WebServer } from "../server.js";

const open: { server: WebServer; source: DemoSource }[] = [];
afterEach(async () => {
  for (const { server, source } of open.splice(0)) {
    await server.close();
    source.stop();
  }
});

async function serve(minutes?: () => MinutePoint[]) {
  const scheduler = new RealScheduler();
  const source = new DemoSource({ nodes: 4, scheduler });
  if (minutes !== undefined) Object.assign(source, { minutes });
  const server = await startWebServer({ source, kind: "monitor", port: 0, token: "m".repeat(20), scheduler });
  open.push({ server, source });
  return server;
}

it("serves the minutes with their length and how many are kept", async () => {
  const minutes: MinutePoint[] = [
    { t: 0, fraction: 0.25, inSync: 1, known: 4, online: 4 },
    { t: 60_000, away: true },
    { t: 120_000, down: true },
  ];
  const server = await serve(() => minutes);
  const res = await fetch(`${server.origin}/api/convergence/minutes`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { t: unknown };
  expect(body).toMatchObject({ minuteMs: 60_000, kept: 2880, minutes });
  expect(typeof body.t).toBe("number");
});

it("says a fleet with no twins service keeps no long history", async () => {
  const server = await serve();
  const res = await fetch(`${server.origin}/api/convergence/minutes`);
  expect(res.status).toBe(404);
  expect(((await res.json()) as { detail: string }).detail).toBe(
    "this fleet keeps no long convergence history: it has no twins service",
  );
});
