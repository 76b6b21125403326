// The command line: help, version, unknown commands and flags, and the broker's flag errors.
import { type AddressInfo, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { VERSION } from "../version.js";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, out: out.join(""), err: err.join("") };
}

describe("twinfleet", () => {
  it("prints its version", async () => {
    const r = await run(["--version"]);
    expect(r.out.trim()).toBe(VERSION);
    expect(r.code).toBe(0);
  });

  it("returns each call's own exit code and leaves the process's alone (main is also called in-process)", async () => {
    const before = process.exitCode;
    try {
      process.exitCode = 7; // as anything else in this process may have left it
      expect((await run(["--version"])).code).toBe(0);
      process.exitCode = undefined;
      const bad = await run(["sweep", "--nodes", "1"]); // a usage error the command itself reports
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--nodes: must be a whole number/);
      expect(process.exitCode).toBeUndefined();
      expect((await run(["--version"])).code).toBe(0);
    } finally {
      process.exitCode = before;
    }
  });

  it("lists its commands in the help", async () => {
    const r = await run(["--help"]);
    expect(r.out).toMatch(/broker/);
    expect(r.code).toBe(0);
  });

  it("rejects an unknown command with the usage hint", async () => {
    const r = await run(["fly"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("twinfleet: unknown command 'fly'\n(run twinfleet --help for usage)\n");
  });

  it("names a bad broker flag", async () => {
    const r = await run(["broker", "--port", "99999"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--port must be a port number 0-65535/);
  });

  it("keeps every --deny-subscribe, naming a bad filter among them", async () => {
    // The bad port keeps the broker from starting whatever happens to the filters.
    const r = await run(["broker", "--port", "99999", "--deny-subscribe", "a+", "--deny-subscribe", "ok/#"]);
    // A bad flag value is a usage error (docs/cli.md: exit 2).
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--deny-subscribe has an invalid topic filter "a\+": MQTT-4.7.1-3/);
    expect(r.err).not.toMatch(/ok\/#/);
  });

  it("refuses one port for two of its listeners (exit 2) before listening on any", async () => {
    // A port free a moment ago (port 0): before, the broker listened on it, then found it "in use".
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
    const port = String((free.address() as AddressInfo).port);
    await new Promise((resolve) => free.close(resolve));
    const on = ["broker", "--host", "127.0.0.1", "--port", port];
    const ws = await run([...on, "--ws-port", port]);
    expect([ws.code, ws.err.split("\n")[0]]).toEqual([
      2,
      `twinfleet broker: --ws-port is the MQTT port (--port) too: each listener needs a port of its own, got "${port}"`,
    ]);
    const http = await run([...on, "--http", `127.0.0.1:${port}`]);
    expect([http.code, http.err.split("\n")[0]]).toEqual([
      2,
      `twinfleet broker: --http: port ${port} is the broker's --port too: give --http a port of its own`,
    ]);
  });

  it("refuses --redis with --data (exit 2) and a Redis that does not answer (exit 1), each in one line", async () => {
    const both = await run(["broker", "--port", "0", "--redis", "redis://127.0.0.1:6379", "--data", "d"]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--redis excludes --data/);
    // Port 1 on loopback: nothing listens there without root.
    const away = await run([
      "broker",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--redis",
      "redis://127.0.0.1:1",
    ]);
    expect(away.code).toBe(1);
    expect(away.err).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1 cannot be reached: connect ECONNREFUSED/);
  });

  it("rejects an unknown broker flag", async () => {
    const r = await run(["broker", "--colour", "red"]);
    expect(r.code).toBe(2);
    // The parser's own errors read as the commands' do: the command named, its own help hint.
    expect(r.err).toBe(
      "twinfleet broker: unknown option '--colour'\n(run twinfleet broker --help for usage)\n",
    );
    const merge = await run(["report", "merge", "--colour"]);
    expect(merge.err).toMatch(
      /^twinfleet report merge: unknown option '--colour'\n\(run twinfleet report merge --help/,
    );
  });

  it("refuses a fault schedule that does not fit the run before anything starts, naming the entry", async () => {
    const r = await run([
      "sim",
      "--headless",
      "--nodes",
      "2",
      "--duration",
      "10",
      "--faults",
      "broker-restart@20",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/faults\[0\] \(broker-restart\) starts at 20 s, when the presses have ended/);
    const ext = await run([
      "sim",
      "--headless",
      "--broker",
      "mqtt://127.0.0.1:1",
      "--faults",
      "broker-restart@1",
      "--duration",
      "5",
    ]);
    expect(ext.code).toBe(2);
    expect(ext.err).toMatch(/a broker-restart needs a broker the run starts itself/);
  });
});
