// The web server's flags: [HOST:]PORT parsing, the token's sources, the usage errors (a bind beyond
// loopback without a chosen token), and `twinfleet monitor --demo --http` serving without a terminal:
// on a terminal the URL line carries a generated token once, and the token never shows again (a log
// that is not a terminal: http-log.test.ts); `monitor --broker --http`
// waits for a broker not there yet, /healthz 503 meanwhile. A port that cannot be had is an error
// naming --http, and the command exits.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { closedPort, startTestBroker, type TestBroker } from "../../twins/test/helpers.js";
import { UsageError } from "../errors.js";
import { parseHttpAddress, resolveHttpOptions } from "../http.js";
import { main } from "../main.js";
import { spawnCli } from "./spawned-sim.js";

/** A temporary directory removed when the test ends. */
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("--http flags", () => {
  it("parses [HOST:]PORT with loopback as the default host", () => {
    expect(parseHttpAddress("8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHttpAddress("0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseHttpAddress("0.0.0.0:9000")).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(parseHttpAddress("[::1]:0")).toEqual({ host: "::1", port: 0 });
    for (const bad of [
      "",
      "http",
      "70000",
      "host:",
      ":80",
      "a b:1",
      " 8080",
      "8080 ",
      "08080",
      "0x1F90",
      "8e3",
    ]) {
      expect(() => parseHttpAddress(bad), bad).toThrow(/--http: .* is not \[HOST:\]PORT/);
    }
  });

  it("takes the token from the flag, a file or the environment, and generates one on loopback", async () => {
    const dir = scratchDir("tf-http-");
    writeFileSync(join(dir, "token"), "file-token-0123456789\nignored\n");
    expect(await resolveHttpOptions({ http: "0", httpToken: "flag-token-0123456789" }, {})).toMatchObject({
      token: "flag-token-0123456789",
      explicitToken: true,
    });
    expect((await resolveHttpOptions({ http: "0", httpTokenFile: join(dir, "token") }, {}))?.token).toBe(
      "file-token-0123456789",
    );
    expect(
      (await resolveHttpOptions({ http: "0" }, { TWINFLEET_HTTP_TOKEN: "env-token-0123456789" }))?.token,
    ).toBe("env-token-0123456789");
    const generated = await resolveHttpOptions({ http: "0" }, {});
    expect(generated?.explicitToken).toBe(false);
    expect(generated?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await resolveHttpOptions({}, {})).toBeUndefined();
  });

  it("refuses a bind beyond loopback without a chosen token, a short token, and a token without --http", async () => {
    await expect(resolveHttpOptions({ http: "0.0.0.0:8080" }, {})).rejects.toThrow(UsageError);
    await expect(resolveHttpOptions({ http: "0.0.0.0:8080" }, {})).rejects.toThrow(
      /beyond loopback needs a token/,
    );
    expect(
      (await resolveHttpOptions({ http: "0.0.0.0:8080", httpToken: "chosen-token-0123456789" }, {}))?.host,
    ).toBe("0.0.0.0");
    await expect(resolveHttpOptions({ http: "0", httpToken: "short" }, {})).rejects.toThrow(
      "--http-token: must be 16 to 200 printable",
    );
    const shortFile = join(scratchDir("tf-token-"), "t");
    writeFileSync(shortFile, "short\n");
    await expect(resolveHttpOptions({ http: "0", httpTokenFile: shortFile }, {})).rejects.toThrow(
      `--http-token-file (the first line of ${shortFile}): must be 16 to 200 printable`,
    );
    await expect(resolveHttpOptions({ http: "0" }, { TWINFLEET_HTTP_TOKEN: "short" })).rejects.toThrow(
      "TWINFLEET_HTTP_TOKEN: must be 16 to 200 printable",
    );
    await expect(resolveHttpOptions({ httpToken: "chosen-token-0123456789" }, {})).rejects.toThrow(
      /need --http/,
    );
  });

  it("judges loopback by the addresses the host resolves to, not by its name", async () => {
    const hosts: Record<string, readonly string[]> = {
      vm: ["127.0.0.1"],
      "both.test": ["::1", "127.0.0.1"],
      "mixed.test": ["127.0.0.1", "192.168.1.20"],
      localhost: ["127.0.0.1", "10.0.0.7"],
    };
    const lookup = async (host: string) => hosts[host] ?? [];
    // A name naming loopback alone: a generated token, reads open (as for 127.0.0.1).
    const vm = await resolveHttpOptions({ http: "vm:8080" }, {}, lookup);
    expect(vm?.bind).toEqual({ addresses: ["127.0.0.1"], loopback: true });
    expect(vm?.explicitToken).toBe(false);
    expect((await resolveHttpOptions({ http: "both.test:0" }, {}, lookup))?.bind.loopback).toBe(true);
    // A name naming a LAN address too, or `localhost` mapped to one, is beyond loopback.
    await expect(resolveHttpOptions({ http: "mixed.test:8080" }, {}, lookup)).rejects.toThrow(
      "--http mixed.test:8080: listening beyond loopback (mixed.test is 127.0.0.1 and 192.168.1.20) needs a token",
    );
    await expect(resolveHttpOptions({ http: "localhost:8080" }, {}, lookup)).rejects.toThrow(UsageError);
    const chosen = await resolveHttpOptions(
      { http: "localhost:8080", httpToken: "chosen-token-0123456789" },
      {},
      lookup,
    );
    expect(chosen?.bind).toEqual({ addresses: ["127.0.0.1", "10.0.0.7"], loopback: false });
    // A literal is not looked up.
    const never = async (): Promise<string[]> => {
      throw new Error("looked up");
    };
    expect((await resolveHttpOptions({ http: "[::1]:0" }, {}, never))?.bind.loopback).toBe(true);
  });
});

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

describe("twinfleet monitor --http", () => {
  it("exits 2 on a bind beyond loopback without a token", async () => {
    const r = await run(["monitor", "--demo", "--http", "0.0.0.0:0"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("listening beyond loopback needs a token");
  });

  it("serves the demo without a console until SIGINT; on a terminal the token is printed once, in the URL", async () => {
    let url: URL | undefined;
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const args = ["monitor", "--demo", "--nodes", "12", "--http", "0", "--log-level", "debug"];
    const done = run(
      args,
      (all) => {
        const m = /web: (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(all);
        if (m && !url) {
          url = new URL(m[1] as string);
          served();
        }
      },
      true,
    );
    await up;
    const u = url as URL;
    const token = u.hash.replace("#token=", "");
    const fleet = (await (await fetch(new URL("/api/fleet", u))).json()) as { kind: string; nodes: number };
    expect(fleet).toMatchObject({ kind: "monitor", nodes: 12 });
    const unauth = await fetch(new URL("/api/query", u), { method: "POST" });
    expect(unauth.status).toBe(401);
    process.emit("SIGINT");
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.err.split(token).length - 1).toBe(1);
    expect(r.err).toContain("twinfleet monitor: stopped");
  });

  it("serving a live fleet without a terminal, waits for a broker not there yet as twins does: one WARN, /healthz 503, a signal ends it", async () => {
    const url = `mqtt://127.0.0.1:${await closedPort()}`;
    let origin: string | undefined;
    let waiting!: () => void;
    const told = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const done = run(["monitor", "--broker", url, "--http", "0"], (all) => {
      const m = /web: (http:\/\/127\.0\.0\.1:\d+)\//.exec(all);
      if (m && all.includes("trying again") && !origin) {
        origin = m[1];
        waiting();
      }
    });
    await told;
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { detail: string }).detail).toContain(
      `cannot reach the broker at ${url}: connection refused`,
    );
    process.emit("SIGINT");
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      `WARN  twins: cannot reach the broker at ${url}: connection refused; trying again every 1 s until it answers`,
    );
    expect(r.err).toContain("twinfleet monitor: stopped");
  });

  it("never writes a token the operator chose", async () => {
    const chosen = "chosen-token-0123456789";
    let origin: string | undefined;
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const args = [
      "monitor",
      "--demo",
      "--nodes",
      "4",
      "--http",
      "0",
      "--http-token",
      chosen,
      "--log-level",
      "debug",
    ];
    const done = run(args, (all) => {
      const m = /web: (http:\/\/127\.0\.0\.1:\d+)\/#token=…/.exec(all);
      if (m && !origin) {
        origin = m[1];
        served();
      }
    });
    await up;
    const write = await fetch(`${origin}/api/query`, {
      method: "POST",
      headers: { authorization: `Bearer ${chosen}` },
    });
    expect(write.status).toBe(202);
    process.emit("SIGINT");
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.err).not.toContain(chosen);
  });
});

describe("twinfleet broker --http", () => {
  it("exits 2 naming --http on a bad address, and on a bind beyond loopback without a token", async () => {
    const bad = await run(["broker", "--port", "0", "--http", "localhost:http"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--http: "localhost:http" is not [HOST:]PORT');
    const open = await run(["broker", "--port", "0", "--http", "0.0.0.0:0"]);
    expect(open.code).toBe(2);
    expect(open.err).toContain("listening beyond loopback needs a token");
  });

  it("serves /metrics and /healthz until SIGINT, and says where", async () => {
    let origin: string | undefined;
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const args = ["broker", "--host", "127.0.0.1", "--port", "0", "--http", "0", "--log-level", "info"];
    const done = run(args, (all) => {
      const m = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics, health: \1\/healthz/.exec(all);
      if (m && !origin) {
        origin = m[1];
        served();
      }
    });
    await up;
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toMatch(/^twinfleet_broker_clients_connected\{listener="mqtt"\} 0$/m);
    expect(metrics).toMatch(/^twinfleet_broker_store_up\{store="memory"\} 1$/m);
    expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({
      status: "ok",
      store: "memory",
      clients: 0,
    });
    process.emit("SIGINT");
    const r = await done;
    expect(r.code).toBe(0);
    // The server closed with the broker.
    await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
  });
});

describe("twinfleet broker --http NAME:PORT", () => {
  it("says where by the name given, not by the first address it resolved to", async () => {
    let line: string | undefined;
    let served!: () => void;
    const up = new Promise<void>((resolve) => {
      served = resolve;
    });
    const args = [
      "broker",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--http",
      "localhost:0",
      "--log-level",
      "info",
    ];
    const done = run(args, (all) => {
      const m = /metrics: .*\/healthz/.exec(all);
      if (m && !line) {
        line = m[0];
        served();
      }
    });
    await up;
    const m = /^metrics: (http:\/\/localhost:\d+)\/metrics, health: \1\/healthz$/.exec(line ?? "");
    expect(m, line).not.toBeNull();
    // Reached by that name (and the broker's signal handler in place before the SIGINT below).
    expect((await fetch(`${m?.[1]}/healthz`)).status).toBe(200);
    process.emit("SIGINT");
    expect((await done).code).toBe(0);
  });
});

describe("--http on a port another program holds", () => {
  let holder: Server | undefined;
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (holder ? holder.close(() => r()) : r()));
    await broker?.close();
    holder = undefined;
    broker = undefined;
  });
  const heldPort = async () => {
    const s = createServer();
    holder = s;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return (s.address() as AddressInfo).port;
  };

  // As processes: each command had started something (the twins service, the run, the page's event
  // hub) that kept the process alive after the error, so it never exited.
  it.each([
    ["monitor", () => ["monitor", "--demo", "--nodes", "4"]],
    [
      "sim on virtual time",
      () => ["sim", "--clock", "virtual", "--nodes", "4", "--duration", "2", "--headless"],
    ],
    ["twins", () => ["twins", "--broker", (broker as TestBroker).url]],
    ["broker", () => ["broker", "--host", "127.0.0.1", "--port", "0"]],
  ])("%s exits 1 naming --http and the address", async (_, args) => {
    broker = await startTestBroker();
    const port = await heldPort();
    const cli = spawnCli([...args(), "--http", String(port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.err()).toContain(
      `--http: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`,
    );
  });

  // Before anything starts: the port was tried only after the run had started its broker and nodes,
  // or the twins service had reached the broker, whose errors then came first.
  it.each([
    ["sim", (broker: string) => ["sim", "--broker", broker, "--nodes", "2", "--duration", "2", "--headless"]],
    ["twins", (broker: string) => ["twins", "--broker", broker]],
    ["monitor", (broker: string) => ["monitor", "--broker", broker]],
  ])("%s names a port in use before it reaches the broker", async (_, args) => {
    const port = await heldPort();
    const err: string[] = [];
    const code = await main([...args(`mqtt://127.0.0.1:${await closedPort()}`), "--http", String(port)], {
      stdout: () => {},
      stderr: (s) => err.push(s),
      env: {},
    });
    expect(code).toBe(1);
    expect(err.join("")).toContain(
      `--http: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`,
    );
  });
});
