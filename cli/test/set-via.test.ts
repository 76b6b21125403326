/**
 * `twinfleet set` of an offline node (cli/commands/set-via.ts): the one-shot set refuses it, as a set
 * it sends would be lost, and names the way that keeps one (a running twins service's API, with the
 * command and the curl); `set --via` goes through that service, which answers 202 and switches the
 * node when it returns. The refusal used to say only "commands are not queued for offline nodes",
 * while the service's API took the same set.
 */
import { afterEach, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import {
  changed,
  closedPort,
  FINDS_RETAINED,
  startNode,
  startTestBroker,
  until,
} from "../../twins/test/helpers.js";
import { main } from "../main.js";
import { runMain as run } from "./run-main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const TOKEN = "set-via-token-0123456789";

it("refuses a one-shot set of an offline node naming --via and the curl; --via keeps it until the node returns", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  let err = "";
  const running = main(["twins", "--broker", broker.url, "--http", "0", "--http-token", TOKEN], {
    stdout: () => {},
    stderr: (s) => {
      err += s;
      changed();
    },
  });
  open.push({
    close: async () => {
      process.emit("SIGINT");
      await running;
    },
  });
  await until(() => err.includes("connected and queried"), "the service connected");
  const origin = /web: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err)?.[1] as string;
  const api = async (path: string) =>
    (await (await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      presence?: string;
      desired?: { pendingSet?: unknown };
    };

  let a: CoreClient = await startNode(broker.url, "A");
  await expect.poll(async () => (await api("/api/nodes/A")).presence, { timeout: 10_000 }).toBe("online");
  // Online: through the service, sent and confirmed.
  const online = await run("set", "A", "on", "--via", origin, "--http-token", TOKEN, "--wait", "5000");
  expect(online.code, online.err).toBe(0);
  expect(JSON.parse(online.out)).toMatchObject({ node: "A", on: true, accepted: true, confirmed: true });
  expect(a.state.on).toBe(true);

  await a.stop();
  await expect.poll(async () => (await api("/api/nodes/A")).presence, { timeout: 10_000 }).toBe("offline");
  const refused = await run("set", "A", "off", "--broker", broker.url, "--wait", "300");
  expect(refused.code).toBe(1);
  expect(refused.err).toContain("twinfleet set: A is offline: a set from this command would be lost");
  expect(refused.err).toMatch(
    /the running twins service \(tf-twins-[0-9a-f]+\) keeps a set until the node returns/,
  );
  expect(refused.err).toContain("twinfleet set A off --via http://HOST:PORT");
  expect(refused.err).toContain(
    `curl -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"on":false}' http://HOST:PORT/api/nodes/A/state`,
  );

  const kept = await run("set", "A", "off", "--via", origin, "--http-token", TOKEN);
  expect(kept.code, kept.err).toBe(0);
  expect(JSON.parse(kept.out)).toMatchObject({ node: "A", on: false, accepted: true, confirmed: false });
  expect(JSON.parse(kept.out).deferred).toContain(
    "A is offline: the set is kept and sent when it registers again",
  );
  expect((await api("/api/nodes/A")).desired?.pendingSet).toMatchObject({ on: false });

  // The token is needed for a write; a wrong one is told, with where it goes.
  const noToken = await run("set", "A", "off", "--via", origin);
  expect(noToken.code).toBe(1);
  expect(noToken.err).toContain("refused the set (401): give its token");

  a = await startNode(broker.url, "A", FINDS_RETAINED);
  open.push({ close: () => a.stop() });
  await until(() => a.state.on === false, "A switched off on its return");
});

it("checks --via and its flags before connecting (exit 2)", async () => {
  expect(await run("set", "A", "on", "--via", "mqtt://127.0.0.1:1")).toMatchObject({
    code: 2,
    err: expect.stringContaining("--via: expected an http:// or https:// address"),
  });
  expect(
    await run("set", "A", "on", "--via", "http://127.0.0.1:1", "--broker", "mqtt://127.0.0.1:1"),
  ).toMatchObject({ code: 2, err: expect.stringContaining("give --broker or --via, not both") });
  expect(await run("set", "A", "on")).toMatchObject({
    code: 2,
    err: expect.stringContaining("give --broker <url> (or --via <url>"),
  });
  expect(await run("set", "A", "on", "--broker", "mqtt://127.0.0.1:1", "--http-token", TOKEN)).toMatchObject({
    code: 2,
    err: expect.stringContaining("--http-token and --http-token-file need --via"),
  });
  const port = await closedPort();
  expect(await run("set", "A", "on", "--via", `http://127.0.0.1:${port}`)).toMatchObject({
    code: 1,
    err: expect.stringContaining(
      `cannot reach the twins service at http://127.0.0.1:${port}: connection refused`,
    ),
  });
});
