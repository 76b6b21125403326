// What the web page's server writes in its command's log: a generated token never into a log that
// is not a terminal, nor into JSON lines (they get shipped and pasted; on a terminal: http-cli.test.ts);
// a port in the kernel's ephemeral range warned of by every command that serves the page.
import { mkdtempSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe("a write without the token", () => {
  /** Serves `monitor --demo` with `extra`, and returns the 401 detail of a write without a token. */
  async function refusal(extra: string[], terminal: boolean): Promise<string> {
    let origin: string | undefined;
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const done = run(
      ["monitor", "--demo", "--nodes", "4", "--http", "0", ...extra],
      (all) => {
        const m = /web: (http:\/\/127\.0\.0\.1:\d+)\/#token=/.exec(all);
        if (m && !origin) {
          origin = m[1];
          served();
        }
      },
      terminal,
    );
    await up;
    const res = await fetch(`${origin}/api/query`, { method: "POST" });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { detail: string };
    process.emit("SIGINT");
    expect((await done).code).toBe(0);
    return body.detail;
  }

  // It said `the token is in the URL the server printed` where the URL held `#token=…`: a token
  // generated and written nowhere (a service under systemd), or one the operator chose.
  it("is told where the token is: nowhere when generated and not shown, else the URL or the operator's", async () => {
    expect(await refusal([], false)).toBe(
      "a write needs Authorization: Bearer TOKEN (this server generated its token and wrote it nowhere, its log not being a terminal: start it with --http-token-file FILE or TWINFLEET_HTTP_TOKEN to write from the page or the API)",
    );
    expect(await refusal([], true)).toBe(
      "a write needs Authorization: Bearer TOKEN (the token is in the URL the server printed)",
    );
    const file = join(mkdtempSync(join(tmpdir(), "tf-token-")), "token");
    writeFileSync(file, "a-token-of-the-operators-1234\n");
    expect(await refusal(["--http-token-file", file], false)).toBe(
      "a write needs Authorization: Bearer TOKEN (the token given with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN)",
    );
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
