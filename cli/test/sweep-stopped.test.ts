/**
 * A sweep whose point fails midway (its broker gone for good, say): the points done are kept and
 * written, marked as stopped with the failing point and why, and the exit code is 1. Before, the
 * error ended the process and every point already run was lost.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
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

/** A TCP relay to the broker, closed at once by `cut`: from then on a connection is refused. */
async function relay(to: number): Promise<{ port: number; cut: () => void; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    const up = new Socket();
    sockets.add(s).add(up);
    up.connect(to, "127.0.0.1");
    s.pipe(up).pipe(s);
    s.on("error", () => up.destroy());
    up.on("error", () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    port,
    server,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe("a sweep whose point fails after points were done", () => {
  it("writes the points done, names the point that failed and why, and exits with 1", async () => {
    const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => broker.close());
    const { port, cut, server } = await relay(broker.port);
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
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
        // The first point's line: the broker is gone, for good, before the second point starts.
        if (s.startsWith("[ 1/2]")) cut();
      },
    };
    const url = `mqtt://127.0.0.1:${port}`;
    const code = await main(["sweep", "--scenario", file, "--broker", url, "--out", join(dir, "out")], io);
    expect(code).toBe(1);
    const said = `point tiny: 5% loss (2 of 2) failed: cannot reach the broker at ${url}: connection refused`;
    expect(err.at(-1)).toBe(`twinfleet sweep: ${said}\n`);
    const text = out.join("");
    expect(text).toContain(`STOPPED: ${said}\nCUT SHORT: 1 of 2 points run; the tables hold those only\n`);
    const report = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8"));
    expect(report.cutShort).toEqual({
      done: 1,
      of: 2,
      failed: {
        point: "tiny: 5% loss (2 of 2)",
        error: `cannot reach the broker at ${url}: connection refused`,
      },
    });
    expect(report.scenarios[0].loss.map((p: { lossPct: number }) => p.lossPct)).toEqual([0]);
    expect((await readFile(join(dir, "out", "loss.csv"), "utf8")).trim().split("\n")).toHaveLength(2);
    const page = await readFile(join(dir, "out", "report.html"), "utf8");
    expect(page).toContain(`Stopped: point tiny: 5% loss (2 of 2) failed: cannot reach the broker at`);
  }, 120_000);
});
