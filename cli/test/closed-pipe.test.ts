/**
 * `twinfleet … | head`: the reader of its output closes the pipe before the command has written
 * everything. The command finishes as it would have, with its own exit code, and no EPIPE crash.
 * Output that cannot be written for another reason (a full disk: /dev/full) is no crash either: a
 * service keeps serving, a run writes its report, and results lost on stdout make the exit code 1.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../../console/test/tmux.js";
import { cliArgs } from "../../node/test/cli-command.js";
import { STORE_FILE } from "../../twins/store.js";
import { startNode, startTestBroker } from "../../twins/test/helpers.js";

function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Closed before the process has started up, so its first write meets a pipe with no reader.
  child.stdout.destroy();
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, err })));
}

describe("a closed output pipe", () => {
  it("ends the help text quietly with exit code 0", async () => {
    const r = await runWithClosedStdout(["sim", "--help"]);
    expect(r.err).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  }, 60_000);

  it("keeps a usage error's exit code", async () => {
    const r = await runWithClosedStdout(["sim", "--nodes", "many"]);
    expect(r.err).toMatch(/--nodes/);
    expect(r.code).toBe(2);
  }, 60_000);
});

/** Runs the CLI with stdout or stderr on /dev/full (every write fails with ENOSPC). */
function runOnFullDevice(
  args: readonly string[],
  full: "stdout" | "stderr",
): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; text: string }> } {
  const fd = openSync("/dev/full", "w");
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", full === "stdout" ? fd : "pipe", full === "stderr" ? fd : "pipe"],
  });
  closeSync(fd);
  let text = "";
  (full === "stdout" ? child.stderr : child.stdout)?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return { child, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, text }))) };
}

/**
 * Rechecks `cond` every 50 ms until it holds, bounded by the test's time limit alone: how long a
 * process of the CLI takes to start is the host's (over 20 s on 2 cores at load average 17, where a
 * 20 s wait of its own failed), and a process that crashes is seen at once by its exit.
 */
async function poll(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 50));
}

const cleanup: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.runIf(existsSync("/dev/full"))("output on a full device", () => {
  it("keeps a twins service serving and its store whole when its log cannot be written", async () => {
    const broker = await startTestBroker();
    cleanup.push(() => broker.close());
    const dir = mkdtempSync(join(tmpdir(), "tf-full-log-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const twins = runOnFullDevice(["twins", "--broker", broker.url, "--data", dir], "stderr");
    cleanup.push(async () => twins.child.kill("SIGKILL"));
    let exited = false;
    void twins.done.then(() => (exited = true));
    // It logs as it starts, as it connects, and a line per node it hears of: every one fails.
    await poll(() => broker.aedes.connectedClients > 0 || exited);
    const lamp = await startNode(broker.url, "lamp-1");
    cleanup.push(() => lamp.stop());
    // Until it has heard of the node and stored it (a fixed 1.5 s before, which a busy host could
    // pass first: the store did not hold the node yet).
    const store = join(dir, STORE_FILE);
    await poll(() => exited || (existsSync(store) && readFileSync(store, "utf8").includes("lamp-1")));
    expect(exited).toBe(false);
    twins.child.kill("SIGTERM");
    expect((await twins.done).code).toBe(0);
    expect(readFileSync(store, "utf8")).toContain("lamp-1");
  }, 120_000);

  it("writes a run's report, says the summary is lost and exits 1, with no stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-full-out-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const report = join(dir, "r.json");
    const args = ["sim", "--clock", "virtual", "--nodes", "4", "--duration", "2", "--report", report];
    const r = await runOnFullDevice(args, "stdout").done;
    expect(r.text).toContain("twinfleet sim: cannot write to stdout (ENOSPC");
    expect(r.text).not.toMatch(/\n\s+at |Node\.js v/);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(report, "utf8")).scenario.nodes).toBe(4);
  }, 60_000);

  it("makes a one-shot command's lost output exit 1", async () => {
    const r = await runOnFullDevice(["sim", "--help"], "stdout").done;
    expect(r.text).toBe(
      "twinfleet sim: cannot write to stdout (ENOSPC: no space left on device, write): the command's output is lost\n",
    );
    expect(r.code).toBe(1);
  }, 60_000);
});
