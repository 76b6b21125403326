/**
 * Writes with one `If-Match` sent at once, over a standalone twins service on a real broker with two
 * real nodes: exactly one is taken, the others are 412 naming the version the first one made. A set
 * moves the node's version only once the broker took it, so each write is checked after the one
 * before it on the same node is done (node/serial-by-key.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Twins, wallScheduler } from "../../twins/index.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { TwinsSource } from "../../view/twins-source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, WAITING_TEST_MS, whenChanged } from "./helpers.js";

const TOKEN = "race-token-0123456789abcdef";
const fx = new Fixtures();
let source: TwinsSource;
let server: WebServer;
let twins: Twins;

beforeAll(async () => {
  await fx.broker();
  twins = await fx.twins();
  await fx.node("lamp-1");
  await fx.node("lamp-2");
  source = new TwinsSource(twins, "test fleet", wallScheduler);
  server = await startWebServer({ source, kind: "twins", port: 0, token: TOKEN, scheduler: wallScheduler });
  await whenChanged(source, () => source.nodes().filter((n) => n.online).length === 2, "2 nodes online");
}, WAITING_TEST_MS);

afterAll(async () => {
  await server?.close();
  source?.close();
  await fx.close();
});

const etagOf = async (id: string) =>
  (await call(server, "GET", `/api/nodes/${id}`)).headers.get("etag") ?? "";

describe("writes sent at once with one If-Match", { timeout: WAITING_TEST_MS }, () => {
  it("take one set of ten: the other nine are 412", async () => {
    const etag = await etagOf("lamp-1");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(server, "PUT", "/api/nodes/lamp-1/state", {
          body: { on: i % 2 === 0 },
          token: TOKEN,
          headers: { "if-match": etag },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(9);
    const taken = answers.find((a) => a.status === 200);
    const refused = answers.find((a) => a.status === 412);
    // The refusal names the version the write that was taken made.
    expect(refused?.headers.get("etag")).toBe(taken?.headers.get("etag"));
  });

  it("take one of a pairing and an unpairing of the same follower", async () => {
    const etag = await etagOf("lamp-2");
    const [pair, unpair] = await Promise.all([
      call(server, "PUT", "/api/nodes/lamp-2/follows/lamp-1", {
        token: TOKEN,
        headers: { "if-match": etag },
      }),
      call(server, "DELETE", "/api/nodes/lamp-2/follows/lamp-1", {
        token: TOKEN,
        headers: { "if-match": etag },
      }),
    ]);
    expect(pair?.status).toBe(200);
    expect(unpair?.status).toBe(412);
  });
});
