/**
 * The REST API and event stream against a real 20-node simulated run (FleetRun, ideal profile, no
 * presses of its own) over real sockets: reads, set, pair and unpair, press, loss and faults, and
 * every refusal: 401 without the token, 400 naming the field, 404, 412 on a stale If-Match, 413, 415.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetRun } from "../../fleet/run.js";
import { NodeId } from "../../protocol/index.js";
import { simFigures } from "../../view/figures.js";
import { SimSource } from "../../view/sim-source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, parsePrometheus, SseClient, WAITING_TEST_MS, whenChanged } from "./helpers.js";

const TOKEN = "test-token-0123456789abcdef";
/** The server's start, which its ETags name (web/etag.ts). */
const START = "0000000001";
let run: FleetRun;
let source: SimSource;
let server: WebServer;

beforeAll(async () => {
  run = await FleetRun.start({
    nodes: 20,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 0,
    durationS: 120,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    progressEveryS: 0.5,
  });
  source = new SimSource(run);
  server = await startWebServer({
    source,
    kind: "sim",
    port: 0,
    token: TOKEN,
    scheduler: run.sched,
    figures: simFigures(run),
    start: START,
  });
  await whenChanged(
    source,
    () => source.nodes().filter((n) => n.kind === "sim" && n.online && n.sync === "in-sync").length === 20,
    "20 nodes registered, online and in sync",
  );
}, WAITING_TEST_MS);

afterAll(async () => {
  await server?.close();
  source?.close();
  run?.stop();
  run?.cut();
  await run?.done;
});

const node = (id: string) => source.detail(NodeId(id));

/**
 * A set of n-0013 or n-0014 (ring n-0012 → n-0013 → n-0014 → n-0015 → n-0012) is answered before
 * it goes round: the node's report, then each follower's in turn, move their versions for a while
 * after. A test that sets one waits for the others to have moved, so that none moves in the next
 * test: one that reached n-0014 between its read and its write made that write a 412.
 */
async function roundTheRing(
  set: string,
  ask: () => Promise<{ status: number }>,
): Promise<{ status: number }> {
  const ring = ["n-0012", "n-0013", "n-0014", "n-0015"].filter((id) => id !== set);
  const was = ring.map((id) => node(id)?.node.version ?? 0);
  const r = await ask();
  if (r.status === 200)
    await whenChanged(
      source,
      () => ring.every((id, i) => (node(id)?.node.version ?? 0) > (was[i] as number)),
      `${set}'s set taken by ${ring.join(", ")}`,
    );
  return r;
}

describe("reads", { timeout: WAITING_TEST_MS }, () => {
  it("lists the fleet and its nodes, filtered and paged", async () => {
    const fleet = await call(server, "GET", "/api/fleet");
    expect(fleet.status).toBe(200);
    expect(fleet.json).toMatchObject({ kind: "sim", nodes: 20, lossPct: 0 });
    expect(fleet.json.capabilities).toMatchObject({ press: true, set: true, partition: true });

    const all = await call(server, "GET", "/api/nodes");
    expect(all.headers.get("content-type")).toMatch(/^application\/json/);
    expect(all.json.total).toBe(20);
    const nodes = all.json.nodes as { id: string; kind: string; version: number }[];
    expect(nodes).toHaveLength(20);
    expect(nodes.every((n) => n.kind === "sim" && n.version > 0)).toBe(true);

    const page = await call(server, "GET", "/api/nodes?q=n-001&offset=2&limit=3");
    expect(page.json).toMatchObject({ total: 10, offset: 2 });
    expect((page.json.nodes as { id: string }[]).map((n) => n.id)).toEqual(["n-0012", "n-0013", "n-0014"]);
    const offline = await call(server, "GET", "/api/nodes?online=false");
    expect(offline.json.total).toBe(0);
  });

  it("reads one node with its ETag, registration time and pairing", async () => {
    const r = await call(server, "GET", "/api/nodes/n-0001");
    expect(r.status).toBe(200);
    expect(r.headers.get("etag")).toBe(`"${r.json.version}-${START}"`);
    expect(r.json).toMatchObject({ id: "n-0001", kind: "sim", presence: "online", follows: ["n-0000"] });
    expect(r.json.registeredAt).toBeGreaterThanOrEqual(0);
    expect(r.json.desired).toMatchObject({ sources: ["n-0000"], pending: false });
  });

  it("says which field is wrong, and 404s what is not there", async () => {
    const badQuery = await call(server, "GET", "/api/nodes?limit=abc");
    expect(badQuery.status).toBe(400);
    expect(badQuery.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(badQuery.json).toMatchObject({ status: 400, field: "query.limit" });
    expect(String(badQuery.json.detail)).toMatch(/query\.limit: must be a whole number/);
    // An unknown parameter is named itself.
    expect((await call(server, "GET", "/api/nodes?colour=red")).json).toMatchObject({
      field: "query.colour",
      detail: "query.colour: is not a parameter of this request",
    });
    expect((await call(server, "GET", "/api/nodes?sync=maybe")).json.field).toBe("query.sync");

    const badId = await call(server, "GET", "/api/nodes/bad%20id");
    expect(badId.status).toBe(400);
    expect(badId.json.field).toBe("path.id");
    const unknown = await call(server, "GET", "/api/nodes/n-9999");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({
      status: 404,
      field: "path.id",
      detail: "no node n-9999 in this fleet",
    });
    expect((await call(server, "GET", "/api/nothing")).status).toBe(404);
    // A follow of a source that is not there names the source, not the follower.
    const noSource = await call(server, "PUT", "/api/nodes/n-0001/follows/n-9999", { token: TOKEN });
    expect(noSource.json).toMatchObject({
      status: 404,
      field: "path.source",
      detail: "no node n-9999 in this fleet",
    });
    const noFollower = await call(server, "PUT", "/api/nodes/n-9999/follows/n-0001", { token: TOKEN });
    expect(noFollower.json).toMatchObject({
      status: 404,
      field: "path.id",
      detail: "no node n-9999 in this fleet",
    });
  });
});

describe("writes", { timeout: WAITING_TEST_MS }, () => {
  it("refuses a write without the token, with WWW-Authenticate, and changes nothing", async () => {
    const before = node("n-0003")?.node.version;
    const r = await call(server, "PUT", "/api/nodes/n-0003/state", { body: { on: true } });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(r.headers.get("set-cookie")).toBeNull();
    const wrong = await call(server, "PUT", "/api/nodes/n-0003/state", {
      body: { on: true },
      token: "x".repeat(26),
    });
    expect(wrong.status).toBe(401);
    expect(node("n-0003")?.node.version).toBe(before);
  });

  it("sets a node: the set is sent and the node's reported state follows", async () => {
    const before = node("n-0005");
    expect(before?.node.on).toBe(false);
    const r = await call(server, "PUT", "/api/nodes/n-0005/state", { body: { on: true }, token: TOKEN });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: "n-0005" });
    // The node's report may arrive before the answer is built (the broker has its own thread): then
    // the set is answered already and not pending. So the version is compared with the one before
    // the set, not the answer's.
    if ((r.json.desired as { pending: boolean }).pending !== true) expect(r.json.on).toBe(true);
    expect(r.headers.get("etag")).toBe(`"${r.json.version}-${START}"`);
    await whenChanged(source, () => node("n-0005")?.node.on === true, "n-0005 reports on");
    const after = await call(server, "GET", "/api/nodes/n-0005");
    expect(after.json.on).toBe(true);
    expect(after.json.version as number).toBeGreaterThan(before?.node.version as number);
    expect(after.json.version as number).toBeGreaterThanOrEqual(r.json.version as number);
  });

  it("refuses a write on a stale version with 412 and the current ETag", async () => {
    const now = await call(server, "GET", "/api/nodes/n-0013");
    const etag = now.headers.get("etag") as string;
    const stale = `"${(now.json.version as number) - 1}-${START}"`;
    const r = await call(server, "PUT", "/api/nodes/n-0013/state", {
      body: { on: true },
      token: TOKEN,
      headers: { "if-match": stale },
    });
    expect(r.status).toBe(412);
    expect(r.json).toMatchObject({ status: 412, field: "If-Match" });
    expect(r.headers.get("etag")).toBe(etag);
    const ok = await roundTheRing("n-0013", () =>
      call(server, "PUT", "/api/nodes/n-0013/state", {
        body: { on: false },
        token: TOKEN,
        headers: { "if-match": etag },
      }),
    );
    expect(ok.status).toBe(200);
  });

  it("refuses an ETag another start of the server served, though the node is at that version", async () => {
    // A twin's version counts from its service's start: after a restart the same number is another
    // state, and a write holding the tag read before it was carried out against a state never seen.
    const again = await startWebServer({ source, kind: "sim", port: 0, token: TOKEN, scheduler: run.sched });
    try {
      const before = await call(server, "GET", "/api/nodes/n-0014");
      const now = await call(again, "GET", "/api/nodes/n-0014");
      expect(now.json.version).toBe(before.json.version);
      const put = (tag: string) =>
        call(again, "PUT", "/api/nodes/n-0014/state", {
          body: { on: true },
          token: TOKEN,
          headers: { "if-match": tag },
        });
      const old = await put(before.headers.get("etag") as string);
      expect(old.status).toBe(412);
      expect(old.json.detail).toMatch(
        /^node n-0014 is at version \d+, not "\d+-0000000001": read it again and retry$/,
      );
      expect(now.headers.get("etag")).toMatch(new RegExp(`^"${now.json.version}-[0-9a-z]{10}"$`));
      expect((await roundTheRing("n-0014", () => put(now.headers.get("etag") as string))).status).toBe(200);
    } finally {
      await again.close();
    }
  });

  it("names the body field that is wrong, refuses a body too large (413) and one not JSON (415)", async () => {
    const bad = await call(server, "PUT", "/api/nodes/n-0007/state", { body: { on: "yes" }, token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ field: "body.on" });
    expect(String(bad.json.detail)).toBe("body.on: must be true or false");
    const extra = await call(server, "PUT", "/api/nodes/n-0007/state", {
      body: { on: true, x: 1 },
      token: TOKEN,
    });
    expect(extra.json).toMatchObject({ field: "body.x", detail: "body.x: is not a field of this request" });
    const notJson = await call(server, "PUT", "/api/nodes/n-0007/state", {
      raw: { type: "application/json", text: "{on:" },
      token: TOKEN,
    });
    expect(notJson).toMatchObject({ status: 400, json: { field: "body" } });
    const big = await call(server, "PUT", "/api/nodes/n-0007/state", {
      body: { on: true, pad: "x".repeat(20_000) },
      token: TOKEN,
    });
    expect(big.status).toBe(413);
    const text = await call(server, "PUT", "/api/nodes/n-0007/state", {
      raw: { type: "text/plain", text: "on" },
      token: TOKEN,
    });
    expect(text.status).toBe(415);
    const fault = await call(server, "POST", "/api/fleet/faults", {
      body: { kind: "partition", fraction: 2, forS: 1 },
      token: TOKEN,
    });
    expect(fault).toMatchObject({ status: 400, json: { field: "body.fraction" } });
    const loss = await call(server, "POST", "/api/fleet/loss", { body: { pct: 101 }, token: TOKEN });
    expect(loss).toMatchObject({ status: 400, json: { field: "body.pct" } });
  });

  it("pairs two nodes (a press then propagates) and unpairs them", async () => {
    const paired = await call(server, "PUT", "/api/nodes/n-0010/follows/n-0017", { token: TOKEN });
    expect(paired.status).toBe(200);
    expect(paired.json.desired).toMatchObject({ sources: expect.arrayContaining(["n-0017", "n-0009"]) });
    await whenChanged(
      source,
      () => node("n-0010")?.follows.includes(NodeId("n-0017")) === true,
      "n-0010 follows n-0017",
    );
    const before = node("n-0010")?.node.on;
    const pressed = await call(server, "POST", "/api/nodes/n-0017/press", { token: TOKEN });
    expect(pressed.status).toBe(202);
    await whenChanged(source, () => node("n-0010")?.node.on !== before, "the press reaches n-0010");

    const self = await call(server, "PUT", "/api/nodes/n-0010/follows/n-0010", { token: TOKEN });
    expect(self).toMatchObject({ status: 400, json: { field: "path.source" } });
    const unpaired = await call(server, "DELETE", "/api/nodes/n-0010/follows/n-0017", { token: TOKEN });
    expect(unpaired.status).toBe(200);
    expect((unpaired.json.desired as { sources: string[] }).sources).not.toContain("n-0017");
    await whenChanged(source, () => node("n-0010")?.follows.includes(NodeId("n-0017")) === false, "unpaired");
  });

  it("sets the loss and starts a partition", async () => {
    const loss = await call(server, "POST", "/api/fleet/loss", { body: { pct: 5 }, token: TOKEN });
    expect(loss).toMatchObject({ status: 200, json: { lossPct: 5 } });
    const back = await call(server, "POST", "/api/fleet/loss", { body: { pct: 0 }, token: TOKEN });
    expect(back.json.lossPct).toBe(0);
    const q = await call(server, "POST", "/api/query", { token: TOKEN });
    expect(q.status).toBe(202);
  });
});

describe("events and metrics", { timeout: WAITING_TEST_MS }, () => {
  it("streams hello, then only the nodes that changed", async () => {
    const sse = new SseClient(server.origin, "/api/events");
    try {
      const hello = await sse.next((e) => e.event === "hello");
      expect((hello.data as { fleet: { nodes: number } }).fleet.nodes).toBe(20);
      const before = node("n-0002")?.node.version ?? 0;
      // Read on the clock the server dates with (the run's), not the system clock, which may have
      // drifted from it or been set since the process started.
      const pressedAt = Math.floor(run.sched.wallNow());
      await call(server, "POST", "/api/nodes/n-0002/press", { token: TOKEN });
      const batch = await sse.next(
        (e) =>
          e.event === "nodes" &&
          (e.data as { nodes: { id: string; version: number }[] }).nodes.some(
            (n) => n.id === "n-0002" && n.version > before,
          ),
      );
      const ids = (batch.data as { nodes: { id: string }[] }).nodes.map((n) => n.id);
      expect(new Set(ids).size).toBe(ids.length);
      // The change is dated with the server's wall time of the twin's change.
      const changed = (batch.data as { nodes: { id: string; changedAt?: number }[] }).nodes.find(
        (n) => n.id === "n-0002",
      );
      expect(changed?.changedAt).toBeGreaterThanOrEqual(pressedAt);
      expect(changed?.changedAt).toBeLessThanOrEqual(Math.ceil(run.sched.wallNow()));
      // Only changes: a node is in a batch only when it differs from how the last batch showed it.
      type Summary = { id: string; version: number; sync: string; on: boolean; online: boolean };
      const last = new Map<string, string>();
      for (const e of sse.events.filter((x) => x.event === "nodes")) {
        for (const n of (e.data as { nodes: Summary[] }).nodes) {
          const key = `${n.version}|${n.sync}|${n.on}|${n.online}`;
          expect(last.get(n.id), `${n.id} sent again unchanged`).not.toBe(key);
          last.set(n.id, key);
        }
      }
    } finally {
      sse.close();
    }
  });

  it("serves Prometheus text with the registered count", async () => {
    // The checker has timed at least one delivery by the time a progress line counts it.
    await new Promise<void>((resolve) => {
      const seen = (p: { deliveries: number }) => {
        if (p.deliveries === 0) return;
        run.off("progress", seen);
        resolve();
      };
      run.on("progress", seen);
    });
    const r = await call(server, "GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(r.text);
    expect(m.get("twinfleet_nodes_registered")).toBe(20);
    expect(m.get("twinfleet_nodes_online")).toBe(20);
    expect(m.has('twinfleet_event_loop_lag_seconds{thread="main"}')).toBe(true);
    expect(m.has('twinfleet_sync_latency_seconds_bucket{le="1"}')).toBe(true);
    expect(m.get('twinfleet_sync_latency_seconds_bucket{le="+Inf"}')).toBeGreaterThan(0);
    expect(m.has("twinfleet_process_cpu_seconds_total")).toBe(true);
    // No other client uses the fleet's ids, and no node flapped.
    expect(m.get("twinfleet_nodes_ids_in_use")).toBe(0);
    expect(m.get("twinfleet_nodes_flapping_total")).toBe(0);
    // The broker thread reports what it took in and what it delivered (every 500 ms; the fleet has
    // been registering and pressing for seconds by now).
    expect(m.get('twinfleet_broker_messages_total{direction="in"}')).toBeGreaterThan(0);
    expect(m.get('twinfleet_broker_messages_total{direction="out"}')).toBeGreaterThan(0);
  });

  it("serves the run's twins service's long convergence history (a 404 said it had none)", async () => {
    const r = await call(server, "GET", "/api/convergence/minutes");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ minuteMs: 60_000, kept: 2880, minutes: expect.any(Array) });
  });

  it("answers /healthz and serves the OpenAPI document", async () => {
    expect((await call(server, "GET", "/healthz")).json).toEqual({ ok: true });
    const doc = await call(server, "GET", "/api/openapi.json");
    expect(doc.json.openapi).toBe("3.1.0");
  });
});
