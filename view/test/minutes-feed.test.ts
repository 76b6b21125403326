/**
 * The `last 48 h` minutes of a twins service running apart, over its web API: fetched when shown and
 * again while shown, with its token; a service that serves none (an older one: 404), refuses the
 * token or is not there is told in words that name it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { endless } from "../../node/test/fake-peer.js";
import { type MinutesState, RemoteMinutes } from "../minutes-feed.js";

const servers: Server[] = [];
const feeds: RemoteMinutes[] = [];
afterEach(async () => {
  for (const f of feeds.splice(0)) f.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function feed(origin: string, token?: string) {
  const scheduler = new FakeScheduler();
  const f = new RemoteMinutes({ origin, token, scheduler, refetchMs: 30_000 });
  feeds.push(f);
  /** The next state the feed tells. */
  const next = () =>
    new Promise<MinutesState>((resolve) => {
      const off = f.onChange(() => {
        off();
        resolve(f.state());
      });
    });
  return { f, scheduler, next };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

it("fetches the minutes with the token when shown, again every 30 s while shown, not after", async () => {
  const asked: string[] = [];
  const origin = await serve((req, res) => {
    asked.push(`${req.url} ${req.headers.authorization}`);
    json(res, 200, {
      minuteMs: 60_000,
      kept: 2880,
      t: 1000 * asked.length,
      minutes: [{ t: 0, fraction: 0.5 }],
    });
  });
  const { f, scheduler, next } = feed(origin, "s3cret-token");
  expect(f.state().kind).toBe("waiting");
  const first = next();
  f.show(true);
  expect(await first).toEqual({ kind: "minutes", minutes: [{ t: 0, fraction: 0.5 }], t: 1000 });
  expect(asked).toEqual(["/api/convergence/minutes Bearer s3cret-token"]);
  const second = next();
  scheduler.advance(30_000);
  const again = await second;
  expect(again.kind === "minutes" ? again.t : undefined).toBe(2000);
  f.show(false);
  scheduler.advance(120_000);
  expect(asked).toHaveLength(2);
});

it("says a service without the route (an older one: 404) serves no minutes, and why a service with it has none", async () => {
  const older = await serve((req, res) => json(res, 404, { detail: `no route GET ${req.url}` }));
  const { f, next } = feed(older);
  const got = next();
  f.show(true);
  expect(await got).toEqual({
    kind: "none",
    why: `the twins service at ${older} serves no minutes: it answered 404 (no route GET /api/convergence/minutes), as a twinfleet from before the 48 h history does`,
  });
  const demo = await serve((_req, res) =>
    json(res, 404, { detail: "this fleet keeps no long convergence history: it has no twins service" }),
  );
  const d = feed(demo);
  const told = d.next();
  d.f.show(true);
  expect(await told).toEqual({
    kind: "none",
    why: `the twins service at ${demo} serves no minutes: this fleet keeps no long convergence history: it has no twins service`,
  });
});

it("names a refused token and a service not there", async () => {
  const origin = await serve((_req, res) => json(res, 401, { detail: "a bearer token is needed" }));
  const { f, next } = feed(origin);
  const got = next();
  f.show(true);
  expect(await got).toEqual({
    kind: "none",
    why: `the twins service at ${origin} refused the token (401: a bearer token is needed)`,
  });
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  const gone = feed(origin);
  const refused = gone.next();
  gone.f.show(true);
  expect(await refused).toEqual({
    kind: "none",
    why: `cannot reach the twins service at ${origin}: connection refused`,
  });
});

it("tells an answer that is not the minutes as such", async () => {
  const origin = await serve((_req, res) => json(res, 200, { hello: "world" }));
  const { f, next } = feed(origin);
  const got = next();
  f.show(true);
  expect(await got).toEqual({
    kind: "none",
    why: `the twins service at ${origin} answered JSON without its minutes (no \`minutes\` list)`,
  });
});

it("cuts off an answer without end at 4 MB, and names it, instead of reading it into memory", async () => {
  const peer = endless();
  const origin = await serve((_req, res) =>
    peer.answer(res, 200, "application/json", '{"t":1,"minutes":[', '{"t":0},'.repeat(8192)),
  );
  const { f, next } = feed(origin);
  const got = next();
  f.show(true);
  expect(await got).toEqual({
    kind: "none",
    why: `the twins service at ${origin} answered more than 4 MB, more than 48 h of minutes take: it is not a twins service's answer (the rest was not read)`,
  });
  await peer.gone;
  // Let go at the bound: what the socket's buffers held past it, not the stream's end.
  expect(peer.sent()).toBeLessThan(64 * 1024 * 1024);
});

it("names an answer that does not finish in time, and one that is not JSON", async () => {
  const drip = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"t":1,');
  });
  const scheduler = new FakeScheduler();
  const slow = new RemoteMinutes({ origin: drip, scheduler, timeoutMs: 300 });
  feeds.push(slow);
  await slow.fetch();
  expect(slow.state()).toEqual({
    kind: "none",
    why: `the twins service at ${drip} answered 200 and did not finish its answer within 0.3 s (7 bytes by then)`,
  });
  const page = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<html><body>sign in</body></html>");
  });
  const { f, next } = feed(page);
  const got = next();
  f.show(true);
  expect(await got).toEqual({
    kind: "none",
    why: `the twins service at ${page} answered something that is not JSON (text/html: "<html><body>sign in</body></html>")`,
  });
});

it("names the first minute that is not one instead of drawing it", async () => {
  const cases: [unknown, string][] = [
    [
      { t: 60_000, fraction: "abc", inSync: "x", known: -5 },
      'minute 1 has fraction "abc", not a share from 0 to 1',
    ],
    [{ t: 60_000, fraction: 0.5, known: -5 }, "minute 1 has known -5, not a count"],
    [{ t: 60_000, fraction: 0.5, inSync: 7, known: 2 }, "minute 1 has inSync 7 of known 2"],
    [{ t: 60_000_000, fraction: 0.5 }, "minute 1 has t 60000000, after the answer's own time (120000)"],
    [{ t: -1e300 }, "minute 1 has t -1e+300"],
    [[1, 2], "minute 1 is [1,2]"],
  ];
  for (const [minute, why] of cases) {
    const origin = await serve((_req, res) => json(res, 200, { t: 120_000, minutes: [minute] }));
    const { f, next } = feed(origin);
    const got = next();
    f.show(true);
    expect(await got).toEqual({
      kind: "none",
      why: `the twins service at ${origin} answered a minute that is not one: ${why}`,
    });
  }
  const unordered = await serve((_req, res) =>
    json(res, 200, { t: 120_000, minutes: [{ t: 60_000 }, { t: 0 }] }),
  );
  const u = feed(unordered);
  const told = u.next();
  u.f.show(true);
  expect(await told).toEqual({
    kind: "none",
    why: `the twins service at ${unordered} answered a minute that is not one: minute 2 has t 0, not after the minute before it (60000)`,
  });
  const many = await serve((_req, res) =>
    json(res, 200, { t: 1e9, minutes: Array.from({ length: 3000 }, (_, i) => ({ t: i * 60_000 })) }),
  );
  const m = feed(many);
  const counted = m.next();
  m.f.show(true);
  expect(await counted).toEqual({
    kind: "none",
    why: `the twins service at ${many} answered 3000 minutes, more than the 2880 (48 h) a twins service keeps`,
  });
});

it("keeps the minutes read when the service stops answering, says why, and reads fresh ones on its return", async () => {
  // The service stopped (kill -STOP: the connection taken, no answer), back, then killed (refused).
  let stopped = false;
  let t = 120_000;
  const minutes = [{ t: 0, fraction: 0.5, inSync: 1, known: 2 }];
  const origin = await serve((_req, res) => {
    if (!stopped) json(res, 200, { t, minutes });
  });
  const f = new RemoteMinutes({ origin, scheduler: new FakeScheduler(), timeoutMs: 300 });
  feeds.push(f);
  await f.fetch();
  expect(f.state()).toEqual({ kind: "minutes", minutes, t: 120_000 });
  stopped = true;
  await f.fetch();
  expect(f.state()).toEqual({
    kind: "minutes",
    minutes,
    t: 120_000,
    stale: `cannot reach the twins service at ${origin}: no answer within 0.3 s`,
  });
  stopped = false;
  t = 180_000;
  await f.fetch();
  expect(f.state()).toEqual({ kind: "minutes", minutes, t: 180_000 });
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await f.fetch();
  const gone = f.state();
  expect(gone.kind === "minutes" && gone.t).toBe(180_000);
  expect(gone.kind === "minutes" && gone.stale).toMatch(
    new RegExp(`^cannot reach the twins service at ${origin}: (connection refused|other side closed)$`),
  );
});
