// A `twinfleet broker --redis` started while its Redis is stopped (SIGSTOP: Redis takes the
// connection and answers nothing) says so after 5 s naming Redis and the step it waits on, its
// `--http` answers /healthz 503 naming Redis meanwhile, and a SIGTERM ends the start at once, exit 0,
// without listening (docs/cluster.md, "A broker started while Redis does not answer").
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startable } from "../../node/paths.js";
import { exited, freePorts } from "../ports.js";
import { type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";
import { until } from "./helpers.js";

const CLI = ((cli) => [...cli.execArgv, fileURLToPath(cli.url)])(startable("cli/bin"));

let cluster: RedisCluster;
let broker: ChildProcess | undefined;
beforeAll(async () => {
  // Redis and one member, which is stopped: the broker under test is started by hand.
  cluster = await startRedisCluster({ members: 1 });
  await cluster.stop(0);
}, START_HOOK_MS);
afterAll(async () => {
  if (broker !== undefined && broker.exitCode === null) broker.kill("SIGKILL");
  const pid = cluster?.redisPid();
  if (pid !== undefined) process.kill(pid, "SIGCONT");
  await cluster?.close();
});

it("tells a start held by a stopped Redis at 5 s and in /healthz, and a SIGTERM ends it with exit 0", async () => {
  const [port, http] = (await freePorts(2)) as [number, number];
  process.kill(cluster.redisPid() as number, "SIGSTOP");
  const args = ["broker", "--host", "127.0.0.1", "--port", String(port), "--http", String(http)];
  const proc = spawn(process.execPath, [...CLI, ...args, "--redis", cluster.redisUrl], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  broker = proc;
  let log = "";
  proc.stdout?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  await until(() => /has not answered in/.test(log), "the start's wait told", 12_000);
  const [told] = log.split("\n").filter((l) => l.includes("has not answered in"));
  expect(told).toMatch(
    /WARN {2}broker: Redis at redis:\/\/127\.0\.0\.1:\d+ has not answered in 5 s \(connecting and checking that it answers: INFO, PING, since /,
  );
  expect(told).toContain("a stop (SIGTERM, Ctrl-C) ends the wait at once");
  const res = await fetch(`http://127.0.0.1:${http}/healthz`);
  expect(res.status).toBe(503);
  expect(await res.text()).toMatch(/the start waits for Redis at redis:\/\/127\.0\.0\.1:\d+ to answer/);
  proc.kill("SIGTERM");
  let code: number | null = null;
  void exited(proc).then(() => {
    code = proc.exitCode;
  });
  // Nothing holds it: the connection is dropped, not said goodbye to.
  await until(() => code !== null, "the broker exited after SIGTERM", 3_000);
  expect(code).toBe(0);
  expect(log).toContain("SIGTERM: the broker stops without starting; it waited");
  expect(log).not.toMatch(/listening on/);
}, 20_000);
