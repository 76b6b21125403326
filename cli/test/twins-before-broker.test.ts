/**
 * `twinfleet twins` started while its broker is down: it waits, serving its stored twins with
 * /healthz 503, connects once the broker listens, and ends at once on a signal meanwhile.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";
import { afterEach, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { jsonFileStore } from "../../twins/index.js";
import { changed, closedPort, until } from "../../twins/test/helpers.js";
import { main } from "../main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe("twinfleet twins before its broker", () => {
  it("twins started before its broker waits for it, serving its stored twins with /healthz 503, and connects once it listens", async () => {
    const port = await closedPort();
    const url = `mqtt://127.0.0.1:${port}`;
    const dir = await mkdtemp(join(tmpdir(), "twins-cli-"));
    open.push({ close: () => rm(dir, { recursive: true, force: true }) });
    const store = await jsonFileStore(dir);
    await store.save({
      nodes: { "lamp-1": { sources: [NodeId("switch-7")], configVersion: 2, kind: "real" } },
    });
    await store.close();
    const token = "twins-wait-token-0123456789";
    let err = "";
    const running = main(["twins", "--broker", url, "--data", dir, "--http", "0", "--http-token", token], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
        changed();
      },
      env: {},
    });
    await until(
      () => err.includes("trying again") && err.includes("web: "),
      "the wait told, the page served",
    );
    const origin = /web: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err)?.[1];
    expect(err).toMatch(
      new RegExp(
        `WARN {2}twins: cannot reach the broker at ${url}: connection refused; trying again every 1 s until it answers`,
      ),
    );
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { detail: string }).detail).toMatch(
      new RegExp(
        `^not connected since start \\(\\d+ s\\): cannot reach the broker at ${url}: connection refused; trying again$`,
      ),
    );
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const nodes = (await (await fetch(`${origin}/api/nodes`, auth)).json()) as { nodes: { id: string }[] };
    expect(nodes.nodes.map((n) => n.id)).toEqual(["lamp-1"]);
    const fleet = (await (await fetch(`${origin}/api/fleet`, auth)).json()) as { faults: { what: string }[] };
    expect(fleet.faults.map((f) => f.what)).toEqual(["broker not reached yet"]);
    // The broker comes up on that port.
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    open.push({
      close: async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      },
    });
    await until(() => err.includes("connected and queried"), "connected", 10_000);
    expect(err).toMatch(
      new RegExp(`WARN {2}twins: reached the broker at ${url} after waiting \\d+(\\.\\d)? s`),
    );
    // One warning when the wait began, one when it ended.
    expect(err.match(/WARN/g)).toHaveLength(2);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    process.emit("SIGINT");
    expect(await running).toBe(0);
  });

  it("twins still waiting for its broker ends at once on a signal, exit 0", async () => {
    let err = "";
    const running = main(["twins", "--broker", `mqtt://127.0.0.1:${await closedPort()}`], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
        changed();
      },
      env: {},
    });
    await until(() => err.includes("trying again"), "the wait told");
    process.emit("SIGINT");
    expect(await running).toBe(0);
  });
});
