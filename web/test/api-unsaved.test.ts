/**
 * A write the twins service cannot store (its disk full) is not answered as done: the set, pairing or
 * unpairing is carried out in memory, but the service's next start loses it, so the API answers 507
 * saying so, where it answered 200 or 202 ("kept and sent when it registers again") and a kill -9
 * before the disk had room lost what the caller was told was kept. Once the store is written again,
 * writes are answered as before. Meanwhile `/healthz` answers 503 naming the data directory and the
 * error (it answered 200), and 200 again once a save succeeds. A real broker, real nodes, a real HTTP
 * server; the store is the one thing faked, failing as a full disk fails.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { type StoredState, type Twins, type TwinsStore, wallScheduler } from "../../twins/index.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { twinsFigures } from "../../view/figures.js";
import { TwinsSource } from "../../view/twins-source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, whenChanged } from "./helpers.js";

const TOKEN = "unsaved-token-0123456789abcdef";
const fx = new Fixtures();
let source: TwinsSource;
let server: WebServer;
let twins: Twins;

/** A store on a disk that fills: while `full`, each save fails as writeFile does with no space left. */
const disk = { full: false, saved: { nodes: {} } as StoredState };
const store: TwinsStore = {
  where: "/data/twins.json",
  load: async () => ({ nodes: {} }),
  save: async (s) => {
    if (disk.full) throw new Error("ENOSPC: no space left on device, write");
    disk.saved = s;
  },
  close: async () => {},
};

beforeAll(async () => {
  await fx.broker();
  twins = await fx.twins({ store });
  await fx.node("lamp-1");
  const gone = await fx.node("lamp-2");
  source = new TwinsSource(twins, "test fleet", wallScheduler);
  server = await startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: TOKEN,
    scheduler: wallScheduler,
    figures: twinsFigures(twins, () => wallScheduler.now()),
  });
  await whenChanged(source, () => source.nodes().filter((n) => n.online).length === 2, "2 nodes online");
  await gone.stop();
  await whenChanged(source, () => source.detail(NodeId("lamp-2"))?.node.online === false, "lamp-2 offline");
});

afterAll(async () => {
  disk.full = false;
  await server?.close();
  source?.close();
  await fx.close();
});

/** `/healthz`'s status and its problem's detail (none on 200). */
async function health(): Promise<[number, unknown]> {
  const r = await call(server, "GET", "/healthz");
  return [r.status, r.status === 200 ? r.json : r.json.detail];
}

describe("a write the twins service cannot store", () => {
  it("is answered 507 naming what was done and why it is not kept, then as before once saved", async () => {
    expect(await health()).toEqual([200, { ok: true }]);
    disk.full = true;
    const set = await call(server, "PUT", "/api/nodes/lamp-2/state", { body: { on: true }, token: TOKEN });
    expect(set.status).toBe(507);
    expect(set.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(set.json.title).toBe("Insufficient Storage");
    expect(set.json.detail).toMatch(
      /^the set of lamp-2 on \(lamp-2 is offline: the set is kept .*\) is carried out in memory only: it cannot be saved to \/data\/twins\.json \(ENOSPC: no space left on device, write\); a restart of the service now loses it/,
    );
    expect(set.headers.get("etag")).toMatch(/^"\d+-[0-9a-z]{10}"$/);
    // Held in memory all the same: the service sends it when lamp-2 returns.
    expect(twins.get("lamp-2")?.desired.pendingSet?.on).toBe(true);
    expect(disk.saved.nodes["lamp-2"]?.pendingSet).toBeUndefined();

    const pair = await call(server, "PUT", "/api/nodes/lamp-1/follows/lamp-2", { token: TOKEN });
    expect(pair.status).toBe(507);
    expect(pair.json.detail).toMatch(
      /^the pairing \(lamp-1 follows lamp-2\) is carried out in memory only: /,
    );
    const unpair = await call(server, "DELETE", "/api/nodes/lamp-1/follows/lamp-2", { token: TOKEN });
    expect(unpair.status).toBe(507);
    expect(unpair.json.detail).toMatch(/^the unpairing \(lamp-1 no longer follows lamp-2\) is carried out/);

    // A probe (Kubernetes, a blackbox exporter) sees it: 503 naming the data directory and the error,
    // where it answered 200 while every change since was to be lost at the next restart.
    const down = await call(server, "GET", "/healthz");
    expect(down.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(down.json.detail).toMatch(
      /^data directory \/data cannot be written \(ENOSPC: no space left on device, write\), tried again every 5 s: for \d+ s what changes is held in memory only, and a restart now loses it$/,
    );
    expect(down.status).toBe(503);

    disk.full = false;
    const again = await call(server, "PUT", "/api/nodes/lamp-2/state", { body: { on: true }, token: TOKEN });
    expect(again.status).toBe(202);
    expect(disk.saved.nodes["lamp-2"]?.pendingSet?.on).toBe(true);
    const paired = await call(server, "PUT", "/api/nodes/lamp-1/follows/lamp-2", { token: TOKEN });
    expect(paired.status).toBe(200);
    expect(disk.saved.nodes["lamp-1"]?.sources).toEqual(["lamp-2"]);
    // A save went through: healthy again.
    expect(await health()).toEqual([200, { ok: true }]);
  });
});
