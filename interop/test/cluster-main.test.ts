// interop/cluster-main.ts, the cluster as a process for the benchmarks (bench/cluster.ts drives it):
// its first line names the members' MQTT URLs, which answer; its stdin commands kill and restart a
// member and refuse what they cannot do; the end of stdin stops every member.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { accepts } from "../ports.js";

const MAIN = new URL("../cluster-main.ts", import.meta.url).pathname;

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
