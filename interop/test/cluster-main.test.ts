// interop/cluster-main.ts, the cluster as a process for the benchmarks (bench/cluster.ts drives it):
// its first line names the members' MQTT URLs, which answer; its stdin commands kill and restart a
// member and refuse what they cannot do; the end of stdin stops every member.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";

const MAIN = new URL("../cluster-main.ts", import.meta.url).pathname;

/** Whether anything accepts TCP connections at `url`'s port. */
function listening(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(Number(new URL(url).port), "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("cluster-main.ts", () => {
  it("prints the URLs, takes kill/restart on stdin, stops on end of input", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], { stdio: ["pipe", "pipe", "inherit"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
    const first = (await next()) as { urls: string[]; members: { name: string }[] };
    expect(first.urls).toHaveLength(3);
    expect(first.members.map((m) => m.name)).toEqual(["m1", "m2", "m3"]);
    for (const url of first.urls) {
      const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
      await c.endAsync();
    }
    child.stdin.write("kill 1\n");
    expect(await next()).toEqual({ ok: true });
    expect(await listening(first.urls[1] as string)).toBe(false);
    child.stdin.write("restart 1\n");
    expect(await next()).toEqual({ ok: true });
    const back = await mqtt.connectAsync(first.urls[1] as string, { protocolVersion: 4, reconnectPeriod: 0 });
    await back.endAsync();
    child.stdin.write("restart 1\n");
    expect(await next()).toEqual({ ok: false, error: "member m2 is running; stop or kill it first" });
    child.stdin.write("reboot 9\n");
    expect((await next()).error).toMatch(/unknown command "reboot 9"/);
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(await Promise.all(first.urls.map(listening))).toEqual([false, false, false]);
  }, 60_000);

  it("refuses a bad flag with exit code 2", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--members", "x"], { stdio: "pipe" });
    let err = "";
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/usage: cluster-main.ts \[--members N\]/);
  });
});
