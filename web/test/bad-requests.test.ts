/**
 * Every bad request, on every route the server serves, gets a problem+json 4xx that names what is
 * wrong — the path id, the query parameter, the body field, the header — and the server keeps
 * answering. The table is built from the server's own list of routes, so a route added later is
 * walked too: its path ids, a query it does not read, a method it does not take, a body it does not
 * read, a write without the token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { MAX_ID_LENGTH } from "../../protocol/index.js";
import { DemoSource } from "../../view/demo-source.js";
import { BODY_ROUTES, QUERY_ROUTES } from "../schemas.js";
import { startWebServer, type WebServer } from "../server.js";
import { type CallOptions, call } from "./helpers.js";

const TOKEN = "t".repeat(24);
const WRITES = new Set(["POST", "PUT", "DELETE"]);
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];

interface Bad {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly o: CallOptions;
  readonly status: number;
  /** The `field` the problem must name; null: none (a method, the token). */
  readonly field: string | null;
}

let server: WebServer;
let source: DemoSource;
let ids: [string, string];

beforeAll(async () => {
  const scheduler = new FakeScheduler();
  source = new DemoSource({ nodes: 4, scheduler });
  server = await startWebServer({ source, kind: "monitor", port: 0, token: TOKEN, scheduler });
  const [a, b] = source.nodes();
  ids = [a?.id ?? "", b?.id ?? ""];
});

afterAll(async () => {
  await server.close();
  source.stop();
});

/** `/api/nodes/{id}/follows/{source}` with real ids, or one of them replaced by `bad`. */
function fill(pattern: string, bad?: { param: string; value: string }): string {
  let i = 0;
  return pattern.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    const real = ids[i++ % 2] as string;
    return bad?.param === name ? bad.value : real;
  });
}

const BAD_IDS = ["a%20b", "a.b", "x".repeat(MAX_ID_LENGTH + 1), "%00", "%C3%A9", "-%0A-"];

/** What a valid write of each body route sends, for the header and token cases. */
const GOOD_BODY: Readonly<Record<string, unknown>> = {
  "/api/nodes/{id}/state": { on: true },
  "/api/fleet/loss": { pct: 1 },
  "/api/fleet/pace": { paused: true },
  "/api/fleet/faults": { kind: "power-outage", offS: 1 },
};

const json = (text: string): CallOptions => ({ token: TOKEN, raw: { type: "application/json", text } });

/** Bodies every body route refuses, whatever its fields. */
const BAD_BODIES: readonly [string, CallOptions, string][] = [
  ["no body", { token: TOKEN }, "body"],
  ["not JSON", json("{"), "body"],
  ["null", json("null"), "body"],
  ["an array", json("[]"), "body"],
  ["a string", json('"on"'), "body"],
  ["a huge number", json("1e999"), "body"],
];

/** Field values each body route refuses (the route's own schema). */
const BAD_FIELDS: Readonly<Record<string, readonly [string, string][]>> = {
  "/api/nodes/{id}/state": [
    ['{"on":"true"}', "body.on"],
    ['{"on":1}', "body.on"],
    ['{"on":null}', "body.on"],
    ["{}", "body.on"],
  ],
  "/api/fleet/loss": [
    ['{"pct":"5"}', "body.pct"],
    ['{"pct":1e999}', "body.pct"],
    ['{"pct":-1}', "body.pct"],
    ['{"pct":101}', "body.pct"],
    ["{}", "body.pct"],
  ],
  "/api/fleet/pace": [
    ['{"speed":"fast"}', "body.speed"],
    ['{"speed":0}', "body.speed"],
    ['{"speed":1e999}', "body.speed"],
    ['{"paused":"yes"}', "body.paused"],
    ["{}", "body"],
  ],
  "/api/fleet/faults": [
    ['{"kind":"meteor"}', "body.kind"],
    ["{}", "body.kind"],
    ['{"kind":"power-outage","offS":-1}', "body.offS"],
    ['{"kind":"power-outage","offS":1e999}', "body.offS"],
    ['{"kind":"partition","fraction":2,"forS":1}', "body.fraction"],
    ['{"kind":"power-outage","offS":1,"x":1}', "body.x"],
  ],
};

const BAD_QUERIES: readonly [string, string][] = [
  ["limit=abc", "query.limit"],
  ["limit=-1", "query.limit"],
  ["limit=1.5", "query.limit"],
  ["limit=1e999", "query.limit"],
  ["limit=0x10", "query.limit"],
  ["limit=1&limit=2", "query.limit"],
  ["offset=", "query.offset"],
  ["offset=99999999999", "query.offset"],
  ["online=yes", "query.online"],
  ["kind=robot", "query.kind"],
  ["sync=maybe", "query.sync"],
  [`q=${"x".repeat(10_000)}`, "query.q"],
  ["colour=red", "query.colour"],
];

const BAD_IF_MATCH = ["garbage", "3", '"3', '"a"b"', "*, garbage", ""];

function table(routes: readonly string[]): Bad[] {
  const bad: Bad[] = [];
  for (const route of routes) {
    const [method = "", pattern = ""] = route.split(" ");
    if (!pattern.startsWith("/api/")) continue;
    const path = fill(pattern);
    const write = WRITES.has(method);
    const token = write ? { token: TOKEN } : {};
    const body = BODY_ROUTES.has(pattern.replace(/\{([A-Za-z]+)\}/g, ":$1"));
    const good: CallOptions = body ? { ...token, body: GOOD_BODY[pattern] } : token;
    for (const m of pattern.match(/\{[A-Za-z]+\}/g) ?? []) {
      const param = m.slice(1, -1);
      for (const value of BAD_IDS)
        bad.push({
          what: `path ${param} ${value.slice(0, 12)}`,
          method,
          path: fill(pattern, { param, value }),
          o: good,
          status: 400,
          field: `path.${param}`,
        });
    }
    const other = METHODS.find((x) => !routes.includes(`${x} ${pattern}`)) as string;
    bad.push({ what: `method ${other}`, method: other, path, o: { token: TOKEN }, status: 405, field: null });
    if (!QUERY_ROUTES.has(pattern))
      bad.push({
        what: "a query it does not read",
        method,
        path: `${path}?loss=5`,
        o: good,
        status: 400,
        field: "query.loss",
      });
    if (!write) continue;
    bad.push({ what: "no token", method, path, o: { ...good, token: undefined }, status: 401, field: null });
    bad.push({
      what: "another token",
      method,
      path,
      o: { ...good, token: "u".repeat(24) },
      status: 401,
      field: null,
    });
    bad.push({
      what: "text/plain",
      method,
      path,
      o: { token: TOKEN, raw: { type: "text/plain", text: "on" } },
      status: 415,
      field: "body",
    });
    bad.push({
      what: "17 KiB",
      method,
      path,
      o: json(`{"a":"${"x".repeat(17_000)}"}`),
      status: 413,
      field: "body",
    });
    if (pattern.startsWith("/api/nodes/{id}/") && method !== "POST")
      for (const h of BAD_IF_MATCH)
        bad.push({
          what: `If-Match ${h}`,
          method,
          path,
          o: { ...good, headers: { "if-match": h } },
          status: 400,
          field: "If-Match",
        });
    if (!body) {
      bad.push({
        what: "a body it does not read",
        method,
        path,
        o: { token: TOKEN, body: { on: true } },
        status: 400,
        field: "body",
      });
      continue;
    }
    for (const [what, o, field] of BAD_BODIES) bad.push({ what, method, path, o, status: 400, field });
    const typo = JSON.stringify({ ...(GOOD_BODY[pattern] as object), colour: "red" });
    bad.push({ what: "an unknown field", method, path, o: json(typo), status: 400, field: "body.colour" });
    for (const [text, field] of BAD_FIELDS[pattern] ?? [])
      bad.push({ what: text.slice(0, 40), method, path, o: json(text), status: 400, field });
  }
  for (const [q, field] of BAD_QUERIES)
    bad.push({ what: q.slice(0, 30), method: "GET", path: `/api/nodes?${q}`, o: {}, status: 400, field });
  bad.push({
    what: "a 201-character token",
    method: "GET",
    path: `/api/events?token=${"x".repeat(201)}`,
    o: {},
    status: 400,
    field: "query.token",
  });
  return bad;
}

describe("a bad request to the API", () => {
  it("covers every API route, and every body route has bad field values", () => {
    const api = server.routes.filter((r) => r.includes(" /api/"));
    expect(api.length).toBeGreaterThan(10);
    // A write route that reads a body must be in BODY_ROUTES (its bad values below).
    for (const r of [...BODY_ROUTES].map((u) => u.replace(/:([A-Za-z]+)/g, "{$1}")))
      expect(BAD_FIELDS[r], r).toBeDefined();
  });

  it("gets a problem+json 4xx naming what is wrong, and the server keeps answering", async () => {
    const cases = table(server.routes);
    expect(cases.length).toBeGreaterThan(150);
    const wrong: string[] = [];
    for (const c of cases) {
      const a = await call(server, c.method, c.path, c.o);
      const detail = String(a.json.detail ?? "");
      const problems = [
        a.status !== c.status && `status ${a.status}`,
        !a.headers.get("content-type")?.startsWith("application/problem+json") && "not problem+json",
        detail === "" && "no detail",
        /undefined|NaN|\[object Object\]|Invalid input|received/.test(detail) && "a raw word",
        c.field !== null && a.json.field !== c.field && `field ${String(a.json.field)}`,
        c.field !== null && !detail.includes(c.field) && "detail does not name the field",
        c.status === 405 && !a.headers.get("allow") && "no Allow",
      ].filter((p) => p !== false);
      if (problems.length > 0)
        wrong.push(
          `${c.method} ${c.path.slice(0, 60)} (${c.what}): ${problems.join(", ")} — ${detail.slice(0, 120)}`,
        );
      const health = await call(server, "GET", "/healthz");
      expect(health.status).toBe(200);
    }
    expect(wrong).toEqual([]);
  });

  it("a query parameter given twice is said so, whatever its type; a count out of range gives its range", async () => {
    // Each parameter of each route that reads a query, twice with a value it takes once.
    const twice: [string, string][] = [
      ["/api/nodes", "q=a&q=b"],
      ["/api/nodes", "kind=sim&kind=sim"],
      ["/api/nodes", "online=true&online=false"],
      ["/api/nodes", "sync=in-sync&sync=in-sync"],
      ["/api/nodes", "offset=1&offset=1"],
      ["/api/nodes", "limit=1&limit=2"],
      ["/api/events", `token=${TOKEN}&token=${TOKEN}`],
      [`/api/nodes/${ids[0]}`, "force=true&force=true"],
    ];
    for (const [path, query] of twice) {
      const name = query.split("=")[0];
      const method = path.startsWith("/api/nodes/") ? "DELETE" : "GET";
      const a = await call(server, method, `${path}?${query}`, { token: TOKEN });
      expect(a.json, `${method} ${path}?${query}`).toMatchObject({
        status: 400,
        field: `query.${name}`,
        detail: `query.${name}: is given more than once`,
      });
    }
    for (const [query, range] of [
      ["limit=99999999999999999999", "from 0 to 100000"],
      ["limit=-1", "from 0 to 100000"],
      ["offset=-5", "from 0 to 10000000"],
      ["offset=99999999999", "from 0 to 10000000"],
    ] as const) {
      const name = query.split("=")[0];
      const a = await call(server, "GET", `/api/nodes?${query}`);
      expect(a.json, query).toMatchObject({
        status: 400,
        detail: `query.${name}: must be a whole number ${range}`,
      });
    }
  });

  it("names an odd query parameter the same way on every route: quoted, cut short", async () => {
    const long = "k".repeat(80);
    for (const path of ["/api/nodes", "/api/fleet", "/api/events"])
      for (const [query, field] of [
        ["=1", 'query.""'],
        [`${long}=1`, `query."${"k".repeat(60)}…"`],
      ] as const) {
        const a = await call(server, "GET", `${path}?${query}`, { token: TOKEN });
        expect(a.json.field, `${path}?${query.slice(0, 10)}`).toBe(field);
      }
  });

  it("takes an If-Match list with empty elements, and judges its tags", async () => {
    const [a] = ids;
    const lists = (v: string) => [`${v},`, `, ${v}`, `"999999",,${v}`, ` ${v} , `, `"x,y", ${v}`];
    for (const make of [0, 1, 2, 3, 4]) {
      const read = await call(server, "GET", `/api/nodes/${a}`);
      const v = String(read.headers.get("etag"));
      const h = lists(v)[make] as string;
      const set = await call(server, "PUT", `/api/nodes/${a}/state`, {
        token: TOKEN,
        body: { on: make % 2 === 0 },
        headers: { "if-match": h },
      });
      expect([set.status, h]).toEqual([200, h]);
    }
    // Empty elements alone name nothing: 400, as an empty If-Match; a tag elsewhere is a 412.
    for (const [h, status] of [
      [",", 400],
      [" , ,", 400],
      ['"999999",', 412],
    ] as const) {
      const set = await call(server, "PUT", `/api/nodes/${a}/state`, {
        token: TOKEN,
        body: { on: true },
        headers: { "if-match": h },
      });
      expect([set.status, h]).toEqual([status, h]);
    }
  });

  it("refused by the fleet as it stands is a 409 naming the path id, not a 500", async () => {
    const [a, b] = ids;
    const unpair = await call(server, "DELETE", `/api/nodes/${a}/follows/nobody`, { token: TOKEN });
    expect(unpair).toMatchObject({ status: 409, json: { field: "path.source" } });
    // Whichever of the two a follows: unpairing it twice, the second is refused.
    await call(server, "PUT", `/api/nodes/${a}/follows/${b}`, { token: TOKEN });
    expect((await call(server, "DELETE", `/api/nodes/${a}/follows/${b}`, { token: TOKEN })).status).toBe(200);
    const again = await call(server, "DELETE", `/api/nodes/${a}/follows/${b}`, { token: TOKEN });
    expect(again).toMatchObject({
      status: 409,
      json: { detail: `${a} does not follow ${b}`, field: "path.source" },
    });
  });
});
