// The benches that run the CLI into temporary directories (sweep-clocks, shards) remove them however
// they end: done, failed, or stopped by Ctrl-C. They used to leave every one behind in /tmp.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { closedPort } from "../twins/test/helpers.js";

const RUN = fileURLToPath(new URL("./run.ts", import.meta.url));
const homes: string[] = [];
afterEach(() => {
  for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The bench with a temporary directory of its own as TMPDIR; `ours()` lists what it made there. */
function bench(...args: string[]) {
  const home = mkdtempSync(join(tmpdir(), "tf-scratch-test-"));
  homes.push(home);
  const child = spawn(process.execPath, ["--import", "tsx", RUN, ...args], {
    env: { ...process.env, TMPDIR: home },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, err })),
  );
  const ours = () => readdirSync(home).filter((f) => f.startsWith("tf-"));
  return { child, done, ours };
}

describe("a bench's temporary directories", () => {
  it("are removed when the sweep it runs fails", async () => {
    const b = bench("sweep-clocks", "--scenario", "nope");
    const r = await b.done;
    expect(r.err).toContain('no scenario "nope"');
    expect(r.code).not.toBe(0);
    expect(b.ours()).toEqual([]);
  }, 60_000);

  it("are removed, and the sweep under way stopped, on Ctrl-C", async () => {
    const b = bench("sweep-clocks", "--scenario", "paper");
    const end = Date.now() + 40_000;
    while (b.ours().length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(b.ours()).toHaveLength(1);
    // The wall-clock sweep is under way in its own process, writing into that directory.
    await new Promise((r) => setTimeout(r, 2000));
    b.child.kill("SIGINT");
    const r = await b.done;
    expect(r.code).toBe(130);
    expect(b.ours()).toEqual([]);
  }, 60_000);

  it("are removed when a shard fails", async () => {
    const port = await closedPort();
    const b = bench(
      "shards",
      "--shards",
      "1",
      "--nodes",
      "2",
      "--duration",
      "5",
      "--brokers",
      `mqtt://127.0.0.1:${port}`,
    );
    const r = await b.done;
    expect(r.err).toContain("shard 1 exited with 1");
    expect(b.ours()).toEqual([]);
  }, 90_000);
});
