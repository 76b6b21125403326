// One logger for every command: readable lines or JSON on stderr, a level, each twins event once,
// the broker's real bind address and its warning; and `sim --broker` against a broker with
// credentials (the run's twins as the control user, each node as itself), with no password shown.
import { readFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import type { networkInterfaces } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindMessage, exposureWarning, lanAddress } from "../bind.js";
import { readPortRanges } from "../ephemeral-ports.js";
import { reachableOrigin } from "../http.js";
import { beforeConsoleLogger, createLogger, prettyLine } from "../log.js";
import { main } from "../main.js";
import {
  type AuthBroker,
  CONTROL_PASSWORD,
  CONTROL_USER,
  NODE_PASSWORD,
  runCli,
  startAuthBroker,
  startAuthNode,
  writeSecret,
} from "./auth-broker.js";

let fx: AuthBroker;
beforeAll(async () => {
  fx = await startAuthBroker(["C", "n-0000", "n-0001"]);
});
afterAll(() => fx.close());

/** Resolves when `cond` holds, looking again on every write to the command's stderr. */
type StderrWait = (cond: () => boolean, what: string, timeoutMs?: number) => Promise<void>;

/** Runs a long-running command until `ready(stderr)`, then `during`, then SIGINT; its output. */
async function runUntil(
  argv: string[],
  ready: (err: string) => boolean,
  during: (err: () => string, until: StderrWait) => Promise<void> = async () => {},
) {
  let out = "";
  let err = "";
  const waits = new Set<() => void>();
  const until: StderrWait = (cond, what, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        waits.delete(check);
        clearTimeout(deadline);
        resolve();
      };
      const deadline = setTimeout(() => {
        waits.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr so far:\n${err}`));
      }, timeoutMs);
      waits.add(check);
      check();
    });
  const stderr = (s: string) => {
    err += s;
    for (const check of [...waits]) check();
  };
  const running = main(argv, { stdout: (s) => (out += s), stderr, env: {} });
  await until(() => ready(err), `ready: ${argv.join(" ")}`);
  await during(() => err, until);
  process.emit("SIGINT");
  const code = await running;
  return { code, out, err };
}

/** The complete JSON lines logged so far. */
function records(err: string): { msg: string; node?: string; on?: boolean; level?: number }[] {
  return err
    .split("\n")
    .slice(0, -1)
    .map((l) => JSON.parse(l) as { msg: string; node?: string; on?: boolean; level?: number });
}

const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \S/;

describe("twins logs", () => {
  it("logs each event once, as JSON lines with --log-format json, without the password", async () => {
    const login = ["--username", CONTROL_USER, "--password", CONTROL_PASSWORD];
    const r = await runUntil(
      ["--log-format", "json", "--log-level", "debug", "twins", "--broker", fx.broker.url, ...login],
      // Connected, not only started: the service no longer waits for its broker before it serves,
      // and a node that registered before it subscribed would not be logged as registered.
      (e) => e.includes("connected and queried"),
      async (err, until) => {
        const node = await startAuthNode(fx.broker.url, "C");
        node.press();
        const logged = (msg: string, on?: boolean) =>
          records(err()).some((x) => x.msg === msg && x.node === "C" && (on === undefined || x.on === on));
        await until(() => logged("report", true), "the press reported");
        await node.stop();
        await until(() => logged("offline"), "C went offline");
      },
    );
    expect(r.code).toBe(0);
    const all = records(r.err);
    const about = (msg: string) => all.filter((x) => x.msg === msg && x.node === "C");
    expect(about("registered")).toHaveLength(1);
    expect(about("online")).toHaveLength(1);
    expect(about("offline")).toHaveLength(1);
    expect(about("report").filter((x) => x.on === true)).toHaveLength(1);
    // A node's routine (its register, its first coming online, each report) at debug; its leaving at info.
    expect(["registered", "online", "report", "offline"].map((m) => about(m)[0]?.level)).toEqual([
      20, 20, 20, 30,
    ]);
    expect(all.filter((x) => x.node === "C" && /line/.test(x.msg)).map((x) => x.msg)).toEqual([
      "online",
      "offline",
    ]);
    expect(r.err).not.toContain(CONTROL_PASSWORD);
    expect(r.out).toBe("");
  });

  it("logs a node answering a query, unchanged, at debug, as its first register", async () => {
    const login = ["--username", CONTROL_USER, "--password", CONTROL_PASSWORD];
    const registered = (err: string) => records(err).filter((x) => x.msg === "registered" && x.node === "C");
    const r = await runUntil(
      ["--log-format", "json", "--log-level", "debug", "twins", "--broker", fx.broker.url, ...login],
      (e) => e.includes("connected and queried"),
      async (err, until) => {
        const node = await startAuthNode(fx.broker.url, "C");
        await until(() => registered(err()).length === 1, "C registered");
        // Any tool's query (a one-shot `nodes`): C registers again, as it was.
        const tool = await mqtt.connectAsync(fx.broker.url, {
          username: CONTROL_USER,
          password: CONTROL_PASSWORD,
          reconnectPeriod: 0,
        });
        await tool.publishAsync("tf/query", "Q1", { qos: 1 });
        await tool.endAsync();
        await until(() => registered(err()).length === 2, "C answered the query");
        await node.stop();
      },
    );
    expect(r.code).toBe(0);
    // Every query put a line per live node at info: 2,000 for a fleet of 2,000. A first register is
    // at debug too, counted in the summary a minute (cli/activity-log.ts).
    expect(registered(r.err).map((x) => x.level)).toEqual([20, 20]);
  });

  it("writes readable lines by default", async () => {
    const file = await writeSecret(fx.dir, "pw", CONTROL_PASSWORD);
    const r = await runUntil(
      ["twins", "--broker", fx.broker.url, "--username", CONTROL_USER, "--password-file", file],
      (e) => e.includes("Ctrl-C stops"),
    );
    expect(r.code).toBe(0);
    const lines = r.err.trim().split("\n");
    for (const line of lines) expect(line).toMatch(PRETTY);
    expect(r.err).toMatch(
      /INFO {2}twins: watching the fleet; Ctrl-C stops broker=mqtt:\/\/127\.0\.0\.1:\d+ prefix=tf/,
    );
  });
});

describe("broker logs", () => {
  it("states the address it binds, warns beyond loopback without --auth, and filters by level", async () => {
    const wild = await runUntil(["broker", "--host", "0.0.0.0", "--port", "0"], (e) => e.includes("WARN"));
    expect(wild.code).toBe(0);
    expect(wild.out).toBe("");
    expect(wild.err).toMatch(/INFO {2}twinfleet broker listening on 0\.0\.0\.0:(\d+) \(mqtt:\/\/\S+:\1\)/);
    expect(wild.err).toMatch(/WARN {2}listening beyond loopback \(0\.0\.0\.0\) without --auth/);

    const quiet = await runUntil(["--log-level", "warn", "broker", "--host", "0.0.0.0", "--port", "0"], (e) =>
      e.includes("WARN"),
    );
    expect(quiet.err).not.toContain("listening on");
    expect(quiet.err.trim().split("\n")).toHaveLength(1);

    const json = await runUntil(
      ["--log-format", "json", "broker", "--host", "127.0.0.1", "--port", "0"],
      (e) => e.includes("listening"),
    );
    expect(json.out).toBe("");
    const first = JSON.parse(json.err.split("\n")[0] ?? "") as { level: number; msg: string };
    expect(first).toMatchObject({
      level: 30,
      msg: expect.stringMatching(
        /^twinfleet broker listening on 127\.0\.0\.1:\d+ \(mqtt:\/\/127\.0\.0\.1:\d+\)$/,
      ),
    });
    expect(json.err).not.toContain("without --auth");
  });

  it("warns of a --port in the kernel's ephemeral range, naming the range and the fix", async () => {
    const ranges = readPortRanges();
    expect(ranges).toBeDefined(); // Linux: /proc/sys/net/ipv4/ip_local_port_range
    // A port the kernel hands out for port 0 lies in that range by definition.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const r = await runUntil(["broker", "--host", "127.0.0.1", "--port", String(port)], (e) =>
      e.includes("WARN"),
    );
    expect(r.code).toBe(0);
    // Nothing was said: a client reconnecting to it could connect to itself and keep the port.
    expect(r.err).toContain(
      `WARN  --port ${port} is in the kernel's ephemeral port range (${ranges?.low}-${ranges?.high}, net.ipv4.ip_local_port_range)`,
    );
    expect(r.err).toContain(`sysctl -w net.ipv4.ip_local_reserved_ports=${port}`);
  });

  it("names the LAN address for a wildcard bind, and each listener", () => {
    const lan = () => "192.168.1.20";
    expect(bindMessage({ host: "0.0.0.0", port: 1883, tlsPort: 8883, wsPort: 8080 }, lan)).toBe(
      "twinfleet broker listening on 0.0.0.0:1883 (mqtt://192.168.1.20:1883), TLS 0.0.0.0:8883 (mqtts://192.168.1.20:8883), WebSocket 0.0.0.0:8080 (ws://192.168.1.20:8080)",
    );
    expect(bindMessage({ host: "::1", port: 1883 }, lan)).toBe(
      "twinfleet broker listening on [::1]:1883 (mqtt://[::1]:1883)",
    );
    expect(exposureWarning("192.168.1.20", false)).toContain("without --auth");
    expect(exposureWarning("192.168.1.20", true)).toBeUndefined();
    expect(exposureWarning("127.0.0.1", false)).toBeUndefined();
  });

  it("names an IPv6 address for :: on a host without IPv4, never a link-local one", () => {
    const nic = (address: string, family: "IPv4" | "IPv6", internal = false) => ({
      address,
      family,
      internal,
      netmask: "",
      mac: "00:00:00:00:00:00",
      cidr: null,
      ...(family === "IPv6" ? { scopeid: 0 } : {}),
    });
    const v6only = {
      lo: [nic("127.0.0.1", "IPv4", true), nic("::1", "IPv6", true)],
      eth0: [nic("fe80::fc:ff:fe00:1", "IPv6"), nic("2001:db8::20", "IPv6")],
    } as unknown as ReturnType<typeof networkInterfaces>;
    expect(lanAddress(v6only, true)).toBe("[2001:db8::20]");
    expect(bindMessage({ host: "::", port: 1883 }, (v6) => lanAddress(v6only, v6))).toBe(
      "twinfleet broker listening on [::]:1883 (mqtt://[2001:db8::20]:1883)",
    );
    // 0.0.0.0 takes no IPv6: no address of this host beyond loopback reaches it.
    expect(bindMessage({ host: "0.0.0.0", port: 1883 }, (v6) => lanAddress(v6only, v6))).toBe(
      "twinfleet broker listening on 0.0.0.0:1883 (mqtt://localhost:1883)",
    );
    // With an IPv4 address, that one (boards speak IPv4), for :: too.
    const dual = { ...v6only, eth1: [nic("192.168.1.20", "IPv4")] } as ReturnType<typeof networkInterfaces>;
    expect(lanAddress(dual, true)).toBe("192.168.1.20");
    expect(lanAddress({ eth0: [nic("fe80::1", "IPv6")] } as ReturnType<typeof networkInterfaces>, true)).toBe(
      "localhost",
    );
  });

  it("gives a LAN address for a wildcard --http bind, with the bind after it", () => {
    const lan = (v6: boolean) => (v6 ? "[2001:db8::20]" : "192.168.1.20");
    expect(reachableOrigin("http://0.0.0.0:9100", "0.0.0.0", lan)).toEqual({
      origin: "http://192.168.1.20:9100",
      bound: " (bound at 0.0.0.0:9100)",
    });
    expect(reachableOrigin("http://[::]:8080", "::", lan)).toEqual({
      origin: "http://[2001:db8::20]:8080",
      bound: " (bound at [::]:8080)",
    });
    // An address or a name is what the operator gave: shown as it listens.
    for (const [origin, host] of [
      ["http://127.0.0.1:8080", "127.0.0.1"],
      ["http://[::1]:8080", "::1"],
      ["http://fleet.lan:8080", "fleet.lan"],
    ] as const) {
      expect(reachableOrigin(origin, host, lan)).toEqual({ origin, bound: "" });
    }
  });

  it("says which addresses a host name was bound at, and warns by those addresses", () => {
    const lan = () => "192.168.1.20";
    expect(bindMessage({ host: "localhost", port: 1883, addresses: ["::1", "127.0.0.1"] }, lan)).toBe(
      "twinfleet broker listening on localhost:1883 (mqtt://localhost:1883); localhost is ::1 and 127.0.0.1",
    );
    // An address is what it says; a wildcard's line names the LAN address already.
    expect(bindMessage({ host: "127.0.0.1", port: 1883, addresses: ["127.0.0.1"] }, lan)).toBe(
      "twinfleet broker listening on 127.0.0.1:1883 (mqtt://127.0.0.1:1883)",
    );
    expect(exposureWarning("broker.lan", false, ["::1", "127.0.0.1"])).toBeUndefined();
    // Judged as addresses, however spelled: the long form of ::1, 127.0.0.1 mapped into IPv6.
    expect(exposureWarning("broker.lan", false, ["0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])).toBeUndefined();
    expect(exposureWarning("broker.lan", false, ["127.0.0.1", "192.168.1.20"])).toContain("without --auth");
  });
});

describe("the logger", () => {
  it("filters by level, masks secrets and formats fields", () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: "warn", write: (s) => lines.push(s), secrets: ["hunter2"] });
    log.info("not shown");
    log.warn({ node: "A", url: "mqtt://u:hunter2@h" }, "shown");
    log.error({ password: "other" }, "redacted");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}shown node=A url=mqtt:\/\/u:\*\*\*@h\n$/);
    expect(lines[1]).toMatch(/ERROR redacted password=\*\*\*\n$/);
    expect(prettyLine({ level: 30, time: 0, msg: "m", err: { type: "Error", message: "boom x" } })).toBe(
      '00:00:00.000 INFO  m err="boom x"',
    );
  });

  it("writes a device's control characters and bidi overrides as escapes, never raw to the terminal", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (s) => lines.push(s) });
    // What a device on the LAN sent: a topic that clears the screen and sets the window title, a
    // client id with an 8-bit CSI, a payload reversed by a bidi override, an error naming them.
    log.warn(
      {
        topic: "tf/report/\u001b[2J\u001b]0;PWNED\u0007zz",
        clientId: "a\u009b31mb",
        payload: "on\u202eff",
        bare: "n-1",
      },
      "bad input: \u001b[H\u007f",
    );
    log.error({ err: { type: "Error", message: "id \u001b[5m" } }, "x");
    const text = lines.join("");
    const raw = [...text].filter((c) => {
      const n = c.codePointAt(0) ?? 0;
      return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n <= 0x9f) || n === 0x202e;
    });
    expect(raw).toEqual([]);
    expect(lines[0]).toContain("bad input: \\u001b[H\\u007f ");
    expect(lines[0]).toContain('topic="tf/report/\\u001b[2J\\u001b]0;PWNED\\u0007zz"');
    expect(lines[0]).toContain('clientId="a\\u009b31mb"');
    expect(lines[0]).toContain('payload="on\\u202eff"');
    expect(lines[0]).toContain(" bare=n-1\n");
    expect(lines[1]).toContain('err="id \\u001b[5m"');
  });

  it("before a console opens, writes warnings (a wait for ids in use) and nothing once it is open", () => {
    const lines: string[] = [];
    const { logger, quiet } = beforeConsoleLogger({ stderr: (s) => lines.push(s) });
    logger.info("not shown");
    logger.child({}, { level: "warn" }).warn("2 of the fleet's ids are online on the broker: waiting");
    quiet();
    logger.error("would tear the screen");
    expect(lines).toEqual([
      expect.stringMatching(/WARN {2}2 of the fleet's ids are online on the broker: waiting\n$/),
    ]);
  });
});

describe("sim --broker with credentials", () => {
  it("runs its twins as the control user and its nodes as themselves, showing no password", async () => {
    const report = join(fx.dir, "run.json");
    const inUrl = fx.broker.url.replace("mqtt://", `mqtt://${CONTROL_USER}:${CONTROL_PASSWORD}@`);
    const nodePw = await writeSecret(fx.dir, "nodes.pw", `${NODE_PASSWORD}\n`);
    const r = await runCli([
      ...["sim", "--headless", "--nodes", "2", "--topology", "pairs", "--rate", "60"],
      ...["--duration", "2", "--settle", "1", "--workers", "0", "--progress-every", "1"],
      ...["--broker", inUrl, "--node-password-file", nodePw, "--report", report],
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("registration   2/2");
    expect(r.out + r.err).not.toContain(CONTROL_PASSWORD);
    expect(r.out + r.err).not.toContain(NODE_PASSWORD);
    expect(r.err).toContain(`broker ${fx.broker.url}`);
    const json = JSON.parse(await readFile(report, "utf8")) as { scenario: { broker: string } };
    expect(json.scenario.broker).toBe(fx.broker.url);
    expect(await readFile(report, "utf8")).not.toContain(CONTROL_PASSWORD);
  });

  it("with --log-format json every line on stderr is a JSON record, progress included", async () => {
    const r = await runCli([
      ...["--log-format", "json", "sim", "--headless", "--nodes", "2", "--topology", "pairs"],
      ...["--duration", "1", "--settle", "0", "--workers", "0", "--progress-every", "1"],
    ]);
    expect(r.code).toBe(0);
    const all = records(r.err);
    expect(all.length).toBeGreaterThan(1);
    // A start slower than --progress-every (a loaded host) says its step first: `starting (1 s): …`.
    const header = all.findIndex((x) => /^2 uno-w5100 nodes, pairs/.test(String(x.msg)));
    expect(header).toBeGreaterThanOrEqual(0);
    for (const x of all.slice(0, header)) expect(String(x.msg)).toMatch(/^starting \(\d+ s\): /);
    expect(all.some((x) => x.msg === "progress")).toBe(true);
    expect(r.out).toContain("registration   2/2");
  });
});
