/**
 * A running broker reloading its access rules and its TLS certificate (broker/reload.ts), with real
 * clients on port 0: who is cut, who stays under which rules, what a failed reload leaves, and which
 * certificate a new handshake gets while a session under way goes on.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import type { MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CredentialsFile, credentialsPolicy, hashPassword } from "../credentials.js";
import { type RunningBroker, startBroker } from "../server.js";
import { loadTlsMaterial } from "../tls.js";
import { makeCa, type TestCa } from "./certs.js";
import { client, closeAll, nextMessage, once } from "./helpers.js";

type Users = CredentialsFile["users"];

let hashes: Record<"a" | "b", string>;
const open: MqttClient[] = [];
const as = async (url: string, username: string, password: string, clientId: string, extra = {}) => {
  const c = await client(url, { username, password, clientId, ...extra });
  open.push(c);
  return c;
};

beforeAll(async () => {
  hashes = { a: await hashPassword("pw-a"), b: await hashPassword("pw-b") };
});
afterEach(async () => {
  await closeAll(...open.splice(0));
});

describe("reloading the access rules", () => {
  let broker: RunningBroker;
  const users = (): Users => ({
    lamp: { role: "node", nodeId: "lamp-1", password: hashes.a },
    sw: { role: "node", nodeId: "switch-7", password: hashes.a },
    ctl: { role: "control", password: hashes.a },
    watcher: { role: "control", password: hashes.a },
  });
  const reload = (u: Users) => broker.reload(async () => ({ auth: credentialsPolicy({ users: u }) }));

  beforeAll(async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, auth: credentialsPolicy({ users: users() }) });
  });
  afterAll(async () => {
    await broker.close();
  });
  afterEach(async () => {
    // The next test starts from the first rules.
    await reload(users());
  });

  it("cuts a removed user's connection, refuses its reconnect and keeps the others", async () => {
    const lamp = await as(broker.url, "lamp", "pw-a", "tf-lamp-1");
    const ctl = await as(broker.url, "ctl", "pw-a", "ctl-1");
    const closed = once(lamp, "close");
    const { lamp: _removed, ...rest } = users();
    const outcome = await reload(rest);
    expect(outcome).toEqual({ ok: true, cut: 1, changed: 0 });
    await closed;
    expect(ctl.connected).toBe(true);
    await expect(
      client(broker.url, { username: "lamp", password: "pw-a", clientId: "tf-lamp-1" }),
    ).rejects.toMatchObject({ code: 4 });
    expect(broker.figures.tally.cut["credentials-revoked"]).toBe(1);
  });

  it("cuts a connection whose password changed; the new password logs in", async () => {
    const sw = await as(broker.url, "sw", "pw-a", "tf-switch-7");
    const closed = once(sw, "close");
    await reload({ ...users(), sw: { role: "node", nodeId: "switch-7", password: hashes.b } });
    await closed;
    await expect(
      client(broker.url, { username: "sw", password: "pw-a", clientId: "tf-switch-7" }),
    ).rejects.toMatchObject({
      code: 4,
    });
    await as(broker.url, "sw", "pw-b", "tf-switch-7");
  });

  it("publishes a cut connection's will, as for any connection the broker closes", async () => {
    const watcher = await as(broker.url, "watcher", "pw-a", "watch-1");
    await watcher.subscribeAsync("tf/status/lamp-1");
    const will = {
      topic: "tf/status/lamp-1",
      payload: Buffer.from("offline"),
      qos: 1 as const,
      retain: false,
    };
    await as(broker.url, "lamp", "pw-a", "tf-lamp-1", { will });
    const { lamp: _removed, ...rest } = users();
    const heard = nextMessage(watcher, "tf/status/lamp-1");
    await reload(rest);
    expect(await heard).toBe("offline");
  });

  it("judges a kept connection's later publishes, subscriptions and deliveries by its new role", async () => {
    // A control user whose client id is a node's: made that node, it stays connected as the node.
    const was = await as(broker.url, "ctl", "pw-a", "tf-lamp-1");
    await was.subscribeAsync("tf/#");
    const ctl = await as(broker.url, "watcher", "pw-a", "watch-2");
    const outcome = await reload({ ...users(), ctl: { role: "node", nodeId: "lamp-1", password: hashes.a } });
    expect(outcome).toEqual({ ok: true, cut: 0, changed: 1 });
    expect(was.connected).toBe(true);

    // The subscription held stays, but delivers only what the node may subscribe to.
    const got: string[] = [];
    was.on("message", (topic) => got.push(topic));
    for (const topic of ["tf/config/switch-7", "tf/state/switch-7", "tf/report/switch-7", "tf/state/lamp-1"])
      await ctl.publishAsync(topic, "x", { qos: 1 });
    await nextMessage(was, "tf/state/lamp-1");
    expect(got).toEqual(["tf/report/switch-7", "tf/state/lamp-1"]);

    // A new wildcard subscription is refused (0x80), and a publish as control closes the connection.
    await expect(was.subscribeAsync("tf/report/+")).rejects.toThrow(/Subscribe error/);
    const closed = once(was, "close");
    was.publish("tf/state/switch-7", "1", { qos: 1 });
    await closed;
  });

  it("cuts a connection whose node id or prefix no longer matches its client id", async () => {
    const lamp = await as(broker.url, "lamp", "pw-a", "tf-lamp-1");
    const closed = once(lamp, "close");
    const outcome = await reload({
      ...users(),
      lamp: { role: "node", nodeId: "lamp-2", password: hashes.a },
    });
    expect(outcome).toMatchObject({ ok: true, cut: 1 });
    await closed;
  });

  it("judges a login whose password check was under way by the rules reloaded meanwhile", async () => {
    // A broker of its own whose policy holds each password check until the test lets it go.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let checking: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      checking = resolve;
    });
    const first = credentialsPolicy({ users: users() });
    const slow = {
      ...first,
      authenticate: async (request: Parameters<typeof first.authenticate>[0]) => {
        checking();
        await held;
        return first.authenticate(request);
      },
    };
    const own = await startBroker({ host: "127.0.0.1", port: 0, auth: slow });
    try {
      const login = client(own.url, { username: "lamp", password: "pw-a", clientId: "tf-lamp-1" });
      await started;
      const { lamp: _removed, ...rest } = users();
      await own.reload(async () => ({ auth: credentialsPolicy({ users: rest }) }));
      release();
      await expect(login).rejects.toMatchObject({ code: 4 });
    } finally {
      await own.close();
    }
  });

  it("changes nothing when the new rules cannot be read", async () => {
    const lamp = await as(broker.url, "lamp", "pw-a", "tf-lamp-1");
    const failed = broker.figures.tally.reloads.failed;
    const outcome = await broker.reload(async () => {
      throw new Error("--auth: credentials file a.json is not JSON");
    });
    expect(outcome).toEqual({ ok: false, problem: "--auth: credentials file a.json is not JSON" });
    expect(broker.figures.tally.reloads.failed).toBe(failed + 1);
    expect(broker.figures.tally.lastReloadOk).toBe(false);
    expect(lamp.connected).toBe(true);
    // The running rules still hold: the same login works, a wrong one is refused.
    await as(broker.url, "sw", "pw-a", "tf-switch-7");
    await expect(
      client(broker.url, { username: "sw", password: "pw-b", clientId: "tf-switch-7" }),
    ).rejects.toMatchObject({ code: 4 });
  });

  it("refuses a TLS certificate for a broker without a TLS listener, changing nothing", async () => {
    const outcome = await broker.reload(async () => ({
      tls: { key: Buffer.from(""), cert: Buffer.from("") },
    }));
    expect(outcome).toMatchObject({ ok: false, problem: expect.stringMatching(/without --tls-port/) });
  });
});

describe("reloading the TLS key and certificate", () => {
  let dir: string;
  let ca: TestCa;
  let broker: RunningBroker;
  const names = "DNS:localhost,IP:127.0.0.1";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twinfleet-reload-"));
    ca = makeCa(dir);
    const first = ca.issue("first", { names, start: "20260101000000Z", end: "20360101000000Z" });
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      tls: { port: 0, keyFile: first.keyFile, certFile: first.certFile },
      auth: credentialsPolicy({ users: { ctl: { role: "control", password: hashes.a } } }),
    });
  });
  afterAll(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });

  const servedCertificate = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const s = connectTls(
        { host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false },
        () => {
          resolve(s.getPeerCertificate().subject.CN as string);
          s.destroy();
        },
      );
      s.once("error", reject);
    });

  it("gives new handshakes the new certificate while a session under way goes on", async () => {
    const port = broker.tlsPort ?? 0;
    const tlsUrl = `mqtts://localhost:${port}`;
    const { readFileSync } = await import("node:fs");
    const trust = { ca: readFileSync(ca.caFile) };
    const before = await as(tlsUrl, "ctl", "pw-a", "before", trust);
    expect(await servedCertificate(port)).toBe("first");
    const renewed = ca.issue("renewed", { names, start: "20260101000000Z", end: "20370101000000Z" });
    const outcome = await broker.reload(async () => ({
      tls: await loadTlsMaterial(renewed.keyFile, renewed.certFile),
    }));
    expect(outcome).toEqual({
      ok: true,
      cut: 0,
      changed: 0,
      certificateNotAfter: Date.parse("2037-01-01T00:00:00Z"),
    });
    expect(await servedCertificate(port)).toBe("renewed");
    expect(broker.figures.tally.certificateNotAfter).toBe(Date.parse("2037-01-01T00:00:00Z"));
    // The session that began under the first certificate carries on.
    await before.subscribeAsync("t");
    const heard = nextMessage(before, "t");
    const after = await as(tlsUrl, "ctl", "pw-a", "after", trust);
    await after.publishAsync("t", "still here", { qos: 1 });
    expect(await heard).toBe("still here");
  });
});
