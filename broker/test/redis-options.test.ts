// `--redis URL`: a bad URL and `--data` with it are usage errors naming the flag; a Redis nobody
// answers at fails the start with one line naming the URL (password hidden) and the socket's error.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { BrokerOptionsError, parseBrokerCommandOptions, resolveBrokerOptions } from "../options.js";
import { redactRedisUrl, redisUrlProblem } from "../redis-url.js";
import { startBroker } from "../server.js";

/** A loopback port nothing listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("--redis", () => {
  it("is passed on as the broker's redisUrl", () => {
    expect(parseBrokerCommandOptions({ redis: "redis://127.0.0.1:6379/2" }).broker.redisUrl).toBe(
      "redis://127.0.0.1:6379/2",
    );
  });

  it("excludes --data", () => {
    const both = () => parseBrokerCommandOptions({ redis: "redis://127.0.0.1:6379", data: "/tmp/d" });
    expect(both).toThrow(BrokerOptionsError);
    expect(both).toThrow("--redis excludes --data");
    expect(() => resolveBrokerOptions({ redisUrl: "redis://h:1", dataDir: "/tmp/d" })).toThrow(
      "options.redisUrl excludes dataDir",
    );
  });

  it.each([
    ["127.0.0.1:6379", "must be a URL like redis://127.0.0.1:6379"],
    ["http://127.0.0.1:6379", "must start with redis:// or rediss://, not http://"],
    ["redis://127.0.0.1:6379/x", 'names database "x": must be a number'],
  ])("refuses %s", (url, message) => {
    expect(redisUrlProblem(url)).toBe(message);
    expect(() => parseBrokerCommandOptions({ redis: url })).toThrow(`--redis ${message}`);
  });

  it("hides the password in messages", () => {
    expect(redactRedisUrl("redis://user:secret@h:1/0")).toBe("redis://user:***@h:1/0");
  });

  it("fails the start when Redis does not answer, naming the URL and the cause", async () => {
    const port = await closedPort();
    await expect(startBroker({ port: 0, redisUrl: `redis://:pw@127.0.0.1:${port}` })).rejects.toThrow(
      `Redis at redis://:***@127.0.0.1:${port} cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});
