/**
 * A sweep on someone else's broker whose broker goes away between points. Lost for a moment (a
 * restart, a reboot): the next point waits for it, saying so, and runs once it answers. Lost for good,
 * or something else answering on its port: the sweep stops at that point, and the points done are
 * kept and written, marked as stopped with the failing point and why; the exit code is 1. Before, the
 * error ended the process and every point already run was lost.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { parseScenario } from "../../sweep/scenario.js";
import { type BrokerWaitNews, runSweep } from "../../sweep/sweep.js";
import { main } from "../main.js";

const tiny = {
  name: "tiny",
  fleet: {
    nodes: 4,
    seconds: 3,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 120,
    profile: "ideal",
    seed: "stopped",
    settleS: 0.5,
  },
  loss: { levelsPct: [0, 5] },
};

/**
 * A TCP relay to the broker on a port of its own. `cut`: closed at once, from then on a connection is
 * refused; `reopen`: relaying again on the same port; `garble`: answering what is not MQTT; `mend`:
 * relaying again after `garble`.
 */
async function relay(to: number) {
  const sockets = new Set<Socket>();
  let garbled = false;
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    if (garbled) {
      s.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    const up = new Socket();
    sockets.add(up);
    up.connect(to, "127.0.0.1");
    s.pipe(up).pipe(s);
    s.on("close", () => up.destroy());
    up.on("error", () => s.destroy());
  });
  const listen = (port: number) => new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  await listen(0);
  const { port } = server.address() as { port: number };
  const cut = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut,
    reopen: () => void listen(port),
    garble: () => {
      cut();
      garbled = true;
      void listen(port);
    },
    mend: () => {
      garbled = false;
    },
    close: () => new Promise<void>((r) => (server.listening ? server.close(() => r()) : r())),
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setUp() {
  const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
  cleanup.push(() => broker.close());
  const r = await relay(broker.port);
  cleanup.push(() => {
    r.cut();
    return r.close();
  });
  return r;
}

describe("a sweep whose broker goes away after points were done", () => {
  it("waits for a broker lost between points, says so, and runs the point once it answers", async () => {
    const { url, cut, reopen } = await setUp();
    const news: BrokerWaitNews[] = [];
    const r = await runSweep([parseScenario(tiny, "tiny")], {
      quick: false,
      broker: url,
      onPoint: (p) => {
        if (p.index === 1) cut();
      },
      // The broker answers again once the sweep has said it waits for it.
      onBrokerWait: (n) => {
        news.push(n);
        if ("error" in n) reopen();
      },
    });
    expect(r.cutShort).toBeUndefined();
    expect(r.scenarios[0]?.loss?.map((p) => p.lossPct)).toEqual([0, 5]);
    expect(r.scenarios[0]?.loss?.[1]?.registration.registered).toBe(4);
    expect(news).toHaveLength(2);
    expect(news[0]).toEqual({
      point: "tiny: 5% loss (2 of 2)",
      error: `cannot reach the broker at ${url}: connection refused`,
      waitS: 60,
    });
    expect(news[1]).toMatchObject({ point: "tiny: 5% loss (2 of 2)" });
    expect((news[1] as { backAfterS: number }).backAfterS).toBeGreaterThan(0);
  }, 120_000);

  it("stops at the point that finds it gone for good, keeping the points done", async () => {
    const { url, cut } = await setUp();
    const news: BrokerWaitNews[] = [];
    const r = await runSweep([parseScenario(tiny, "tiny")], {
      quick: false,
      broker: url,
      brokerWaitMs: 0,
      onPoint: (p) => {
        if (p.index === 1) cut();
      },
      onBrokerWait: (n) => void news.push(n),
    });
    expect(r.cutShort).toEqual({
      done: 1,
      of: 2,
      failed: {
        point: "tiny: 5% loss (2 of 2)",
        error: `cannot reach the broker at ${url}: connection refused`,
      },
    });
    expect(r.scenarios[0]?.loss?.map((p) => p.lossPct)).toEqual([0]);
    expect(news).toEqual([]);
  }, 120_000);

  it("writes the points done, names the point that failed and why, and exits with 1", async () => {
    const { url, garble, mend } = await setUp();
    const dir = await mkdtemp(join(tmpdir(), "tf-sweep-stopped-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "tiny.json");
    await writeFile(file, JSON.stringify(tiny));
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => {
        err.push(s);
        // The first point's line: something else answers on the broker's port from then on.
        if (s.startsWith("[ 1/2]")) garble();
      },
    };
    const code = await main(["sweep", "--scenario", file, "--broker", url, "--out", join(dir, "out")], io);
    expect(code).toBe(1);
    const said = `point tiny: 5% loss (2 of 2) failed: cannot connect to the broker at ${url}: what answered there does not speak MQTT`;
    expect(err.at(-1)).toContain(`twinfleet sweep: ${said}`);
    const text = out.join("");
    expect(text).toContain(`STOPPED: ${said}`);
    expect(text).toContain("\nCUT SHORT: 1 of 2 points run; the tables hold those only\n");
    const report = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8"));
    expect(report.cutShort).toMatchObject({ done: 1, of: 2, failed: { point: "tiny: 5% loss (2 of 2)" } });
    expect(report.scenarios[0].loss.map((p: { lossPct: number }) => p.lossPct)).toEqual([0]);
    // The CSV says first that it holds the points done only, then its header and the one point.
    const lines = (await readFile(join(dir, "out", "loss.csv"), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      "# CUT SHORT: 1 of 2 points run - a point failed (report.json says which and why) - this file holds those only - twinfleet sweep --resume with the same flags runs the rest",
    );
    const page = await readFile(join(dir, "out", "report.html"), "utf8");
    expect(page).toContain("Stopped: point tiny: 5% loss (2 of 2) failed: cannot connect to the broker at");

    // The broker back: --resume keeps the point done and runs the one that failed.
    mend();
    err.length = 0;
    const resumed = await main(
      ["sweep", "--scenario", file, "--broker", url, "--out", join(dir, "out"), "--resume"],
      io,
    );
    expect(resumed).toBe(0);
    expect(err.join("")).toContain(`2 points on ${url}, resumed`);
    expect(err.join("")).toContain("resumed: 1 kept (tiny: 0% loss), 1 to run from tiny: 5% loss");
    const whole = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8"));
    expect(whole.cutShort).toBeUndefined();
    expect(whole.scenarios[0].loss.map((p: { lossPct: number }) => p.lossPct)).toEqual([0, 5]);
    expect(whole.scenarios[0].loss[0]).toEqual(report.scenarios[0].loss[0]);
    expect(whole.resumed).toEqual([{ at: expect.any(String), kept: 1 }]);
    expect((await readFile(join(dir, "out", "loss.csv"), "utf8")).startsWith("scenario,")).toBe(true);
  }, 120_000);
});
