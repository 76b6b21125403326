// interop/cluster-main.ts, the cluster as a process for the benchmarks (bench/cluster.ts drives it):
// its first line names the members' MQTT URLs, which answer; its stdin commands kill and restart a
// member and refuse what they cannot do; the end of stdin, SIGTERM, SIGINT and SIGHUP stop every
// member, also when they come while the cluster starts (SIGHUP and those used to leave them running).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { accepts } from "../ports.js";

const MAIN = new URL("../cluster-main.ts", import.meta.url).pathname;

/** Processes a test saw started: killed after it, should the cluster have left them running. */
const seen: number[] = [];
afterEach(() => {
  for (const pid of seen.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
});

/** Whether process `pid` is there (a zombie of ours reaped or not, a process of another is). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (Linux's /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** cluster-main.ts (three NATS members), its first line and exit awaited by the caller. */
function start() {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const firstLine = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`cluster-main.ts ended before its first line; stderr:\n${stderr}`);
    return line.value as string;
  };
  return { child, exited, firstLine, stderr: () => stderr };
}

/** Whether anything accepts TCP connections at `url`'s port. */
describe("cluster-main.ts", () => {
  it("prints the URLs, takes kill/restart on stdin, stops on end of input", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    /** `p`, or a failure naming the step and showing what the process logged after 40 s. */
    const step = async <T>(name: string, p: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name}: nothing within 40 s; stderr:\n${stderr}`)),
          40_000,
        );
      });
      try {
        return await Promise.race([p, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    const next = async (name: string) => {
      const line = await step(`the answer to ${name}`, lines.next());
      if (line.done) throw new Error(`cluster-main.ts ended before answering ${name}; stderr:\n${stderr}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const answers = async (url: string) => {
      const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0 });
      try {
        await step(`a CONNACK from ${url}`, new Promise((resolve) => c.once("connect", resolve)));
      } finally {
        c.end(true);
      }
    };
    const first = (await next("the start")) as { urls: string[]; members: { name: string }[] };
    expect(first.urls).toHaveLength(3);
    expect(first.members.map((m) => m.name)).toEqual(["m1", "m2", "m3"]);
    for (const url of first.urls) await answers(url);
    child.stdin.write("kill 1\n");
    expect(await next("kill 1")).toEqual({ ok: true });
    expect(await accepts(Number(new URL(first.urls[1] as string).port))).toBe(false);
    child.stdin.write("restart 1\n");
    expect(await next("restart 1")).toEqual({ ok: true });
    await answers(first.urls[1] as string);
    child.stdin.write("restart 1\n");
    expect(await next("a second restart 1")).toEqual({
      ok: false,
      error: "member m2 is running; stop or kill it first",
    });
    child.stdin.write("reboot 9\n");
    expect((await next("reboot 9")).error).toMatch(/unknown command "reboot 9"/);
    child.stdin.end();
    expect(await step("the exit", exited)).toBe(0);
    expect(await Promise.all(first.urls.map((u) => accepts(Number(new URL(u).port))))).toEqual([
      false,
      false,
      false,
    ]);
  }, 180_000);

  it("stops every member on SIGHUP, which a NATS member takes for a reload (a terminal closed)", async () => {
    const c = start();
    const first = JSON.parse(await c.firstLine()) as { members: { pid: number }[] };
    const pids = first.members.map((m) => m.pid);
    seen.push(...pids);
    expect(pids.every(alive)).toBe(true);
    c.child.kill("SIGHUP");
    expect(await c.exited).toBe(0);
    expect(pids.filter(alive), c.stderr()).toEqual([]);
  }, 120_000);

  it("stops what it started when it is stopped while the cluster starts", async () => {
    const c = start();
    let started: number[] = [];
    const deadline = Date.now() + 60_000;
    while (started.length === 0 && Date.now() < deadline) {
      started = childrenOf(c.child.pid as number);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(started.length, c.stderr()).toBeGreaterThan(0);
    seen.push(...started);
    c.child.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    expect(started.filter(alive), c.stderr()).toEqual([]);
  }, 120_000);

  it("refuses a bad flag with exit code 2, naming it", async () => {
    for (const bad of [
      ["--members", "x"],
      ["--kind", "rabbit"],
    ]) {
      const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...bad], { stdio: "pipe" });
      let err = "";
      child.stderr.on("data", (b: Buffer) => {
        err += b.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code, bad.join(" ")).toBe(2);
      expect(err).toContain("usage: cluster-main.ts [--kind nats|redis] [--members N]");
      expect(err).toContain(`(got: ${bad.join(" ")})`);
    }
  });
});
