/**
 * The API over a live fleet whose broker goes away (`twinfleet twins --http`), on real sockets: a
 * set or query is answered at once with a 503 naming the broker and since when, and is not carried
 * out when the broker is back; a pairing is answered 202 with what will happen and the node, and
 * the follower follows once the broker is back.
 */
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { NodeId } from "../../protocol/index.js";
import { wallScheduler } from "../../twins/index.js";
import { Fixtures, until } from "../../twins/test/helpers.js";
import { twinsFigures } from "../../view/figures.js";
import { TwinsSource } from "../../view/twins-source.js";
import { startWebServer } from "../server.js";
import { call, WAIT_MS, WAITING_TEST_MS, whenChanged } from "./helpers.js";

const TOKEN = "twins-token-0123456789abcdef";
const fx = new Fixtures();
afterEach(() => fx.close());

it(
  "answers a set or query 503 and a pairing 202 while the broker is away; the pairing reaches the node once it is back",
  async () => {
    let broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
    fx.track(null, () => broker.close());
    fx.url = broker.url;
    const twins = await fx.twins({ reconnectPeriodMs: 100 });
    const lamp1 = await fx.node("lamp-1", { reconnect: true });
    const lamp2 = await fx.node("lamp-2", { reconnect: true });
    const source = fx.track(new TwinsSource(twins, "test fleet", wallScheduler), async (s) => s.close());
    const server = fx.track(
      await startWebServer({
        source,
        kind: "twins",
        port: 0,
        token: TOKEN,
        scheduler: wallScheduler,
        figures: twinsFigures(twins, () => wallScheduler.now()),
      }),
      (s) => s.close(),
    );
    const lines: string[] = [];
    source.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    await whenChanged(
      source,
      () => source.nodes().filter((n) => n.online && n.kind === "sim").length === 2,
      "2 nodes",
    );

    await broker.close();
    await whenChanged(source, () => source.health() !== undefined, "the broker lost");
    // With the cause of the failed reconnects once one has failed (nothing listens on the port).
    const reconnecting = `reconnecting(: cannot reach the broker at ${broker.url}: connection refused)?`;
    const unreachable = new RegExp(
      `^the broker at ${broker.url} is not reachable \\(the connection was lost \\d+ s ago; ${reconnecting}\\): `,
    );

    const set = await call(server, "PUT", "/api/nodes/lamp-1/state", { body: { on: true }, token: TOKEN });
    expect(set.status).toBe(503);
    expect(set.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(set.json).toMatchObject({ title: "Service Unavailable", status: 503 });
    expect(set.json.detail).toMatch(unreachable);
    expect(set.json.detail).toMatch(/: the set was not sent$/);
    const query = await call(server, "POST", "/api/query", { token: TOKEN });
    expect(query.status).toBe(503);
    expect(query.json.detail).toMatch(/: the query was not sent$/);

    const paired = await call(server, "PUT", "/api/nodes/lamp-2/follows/lamp-1", { token: TOKEN });
    expect(paired.status).toBe(202);
    expect(paired.json).toMatchObject({
      accepted: true,
      node: { id: "lamp-2", desired: { sources: ["lamp-1"], pending: true, pairingPending: true } },
    });
    expect(paired.json.deferred).toMatch(
      new RegExp(
        `^the broker at ${broker.url} is not reachable \\(the connection was lost \\d+ s ago; ${reconnecting}\\): the pairing \\(lamp-2 follows lamp-1\\) is stored, and sent once the broker is back and lamp-2 registers$`,
      ),
    );
    expect(paired.headers.get("etag")).toMatch(
      new RegExp(`^"${(paired.json.node as { version: number }).version}-[0-9a-z]{10}"$`),
    );
    // The service still serves, and the console's log says what happened to each.
    expect((await call(server, "GET", "/api/nodes/lamp-2")).status).toBe(200);
    expect(
      lines.filter(
        (l) => l.startsWith("warn ") && l.includes("the pairing (lamp-2 follows lamp-1) is stored"),
      ),
    ).toHaveLength(1);

    // The convergence answer carries the outage under way, as the console's chart has it: the page's band.
    const during = await call(server, "GET", "/api/convergence");
    const outage = (during.json.away as { from: number; to?: number }[]).at(-1);
    expect(outage?.to).toBeUndefined();
    expect(during.json.t).toBeGreaterThanOrEqual(outage?.from ?? Number.POSITIVE_INFINITY);

    broker = await startBroker({ host: "127.0.0.1", port: broker.port });
    await until(() => lamp2.state.sources.join() === "lamp-1", "lamp-2 follows lamp-1", WAIT_MS);
    await until(() => twins.get("lamp-2")?.pairing === "confirmed", "the pairing confirmed", WAIT_MS);
    await whenChanged(source, () => source.health() === undefined, "the broker back");
    // The refused set was never carried out: lamp-1 is off, and nothing is pending for it.
    expect(lamp1.state.on).toBe(false);
    expect(twins.get("lamp-1")?.desired.pendingSet).toBeUndefined();
    expect(source.detail(NodeId("lamp-1"))?.desired?.pending).toBe(false);
    const after = await call(server, "GET", "/api/convergence");
    expect((after.json.away as { from: number; to?: number }[]).at(-1)).toEqual({
      from: outage?.from,
      to: expect.any(Number),
    });
  },
  WAITING_TEST_MS,
);
