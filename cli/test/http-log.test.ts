// What the web page's server writes in its command's log: a generated token never into a log that
// is not a terminal, nor into JSON lines (they get shipped and pasted; on a terminal: http-cli.test.ts);
// a port in the kernel's ephemeral range warned of by every command that serves the page.
import { type AddressInfo, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { readPortRanges } from "../ephemeral-ports.js";
import { main } from "../main.js";

async function run(argv: string[], onErr?: (all: string) => void, stderrIsTerminal = false) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    stdout: (s) => out.push(s),
    stderr: (s) => {
      err.push(s);
      onErr?.(err.join(""));
    },
    env: {},
    stderrIsTerminal,
  });
  return { code, out: out.join(""), err: err.join("") };
}

describe("the web line of a log that is not a terminal", () => {
  it("never writes a generated token into a log that is not a terminal, nor into JSON lines", async () => {
    for (const [extra, terminal] of [
      [[], false],
      [["--log-format", "json"], true],
    ] as const) {
      let origin: string | undefined;
      let served!: () => void;
      const up = new Promise<void>((resolve) => {
        served = resolve;
      });
      const args = [...extra, "monitor", "--demo", "--nodes", "4", "--http", "0", "--log-level", "debug"];
      const done = run(
        args,
        (all) => {
          const m =
            /web: (http:\/\/127\.0\.0\.1:\d+)\/#token=… \(the generated token is written only to a terminal/.exec(
              all,
            );
          if (m && !origin) {
            origin = m[1];
            served();
          }
        },
        terminal,
      );
      await up;
      // Reads stay open on loopback; writes still need the token no log has.
      expect((await fetch(`${origin}/api/fleet`)).status).toBe(200);
      expect((await fetch(`${origin}/api/query`, { method: "POST" })).status).toBe(401);
      process.emit("SIGINT");
      const r = await done;
      expect(r.code).toBe(0);
      expect(r.err).toContain("--http-token-file FILE or TWINFLEET_HTTP_TOKEN");
      // A generated token is 43 base64url characters; none is anywhere in the log.
      expect(r.err).not.toMatch(/[A-Za-z0-9_-]{43}/);
    }
  });
});

/** A free port in the kernel's ephemeral range: one it hands out for port 0 lies there by definition. */
async function ephemeralPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("an --http port in the kernel's ephemeral range", () => {
  // The broker and twins warned of it; sim and monitor, serving the same page, said nothing.
  it("is warned of by monitor and by sim, as by the broker and twins", async () => {
    const ranges = readPortRanges();
    expect(ranges).toBeDefined(); // Linux: /proc/sys/net/ipv4/ip_local_port_range
    const warning = (port: number) =>
      `WARN  --http ${port} is in the kernel's ephemeral port range (${ranges?.low}-${ranges?.high}, net.ipv4.ip_local_port_range)`;
    const monitorPort = await ephemeralPort();
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const monitor = run(["monitor", "--demo", "--nodes", "4", "--http", String(monitorPort)], (all) => {
      if (all.includes("web: ")) served();
    });
    await up;
    // Served: the page answers (its signal handler is in place once it does).
    expect((await fetch(`http://127.0.0.1:${monitorPort}/healthz`)).status).toBe(200);
    process.emit("SIGINT");
    const m = await monitor;
    expect(m.code).toBe(0);
    expect(m.err).toContain(warning(monitorPort));
    const simPort = await ephemeralPort();
    const sim = await run([
      "sim",
      "--clock",
      "virtual",
      "--headless",
      "--nodes",
      "4",
      "--duration",
      "5",
      "--speed",
      "max",
      "--http",
      `127.0.0.1:${simPort}`,
    ]);
    expect(sim.code).toBe(0);
    expect(sim.err).toContain(warning(simPort));
    expect(sim.err.split("is in the kernel's ephemeral port range").length - 1).toBe(1);
  });
});
