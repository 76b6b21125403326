// Every tool logs in to a broker with credentials on (flags, password file, environment, URL), over
// TLS with a self-signed certificate (--ca, --insecure), and never shows the password; a refused,
// unreachable or untrusted broker gets a clear error with exit code 1, bad flags exit code 2.
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { closedPort } from "../../twins/test/helpers.js";
import {
  type AuthBroker,
  CONTROL_PASSWORD,
  CONTROL_USER,
  runCli,
  startAuthBroker,
  startAuthNode,
  writeSecret,
} from "./auth-broker.js";

let fx: AuthBroker;
let url: string;
let tlsUrl: string;
const nodes: CoreClient[] = [];

beforeAll(async () => {
  fx = await startAuthBroker(["A", "B"]);
  url = fx.broker.url;
  tlsUrl = `mqtts://localhost:${fx.broker.tlsPort}`;
  nodes.push(await startAuthNode(url, "A"), await startAuthNode(url, "B"));
});
afterAll(async () => {
  for (const n of nodes) await n.stop();
  await fx.close();
});

const login = ["--username", CONTROL_USER, "--password", CONTROL_PASSWORD];
const wait = ["--wait", "300"];
const listed = (out: string) => (JSON.parse(out) as { id: string }[]).map((n) => n.id);

describe("logging in", () => {
  it("nodes logs in with --username and --password", async () => {
    const r = await runCli(["nodes", "--broker", url, ...login, ...wait]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(listed(r.out)).toEqual(["A", "B"]);
  });

  it("takes the password from --password-file, the environment, or the URL", async () => {
    const file = await writeSecret(fx.dir, "ctl.pw", `${CONTROL_PASSWORD}\n`);
    const fromFile = await runCli([
      "nodes",
      "--broker",
      url,
      "--username",
      CONTROL_USER,
      "--password-file",
      file,
      ...wait,
    ]);
    expect(fromFile.code).toBe(0);
    expect(listed(fromFile.out)).toEqual(["A", "B"]);

    const env = { TWINFLEET_USERNAME: CONTROL_USER, TWINFLEET_PASSWORD: CONTROL_PASSWORD };
    const fromEnv = await runCli(["nodes", "--broker", url, ...wait], env);
    expect(fromEnv.code).toBe(0);
    expect(listed(fromEnv.out)).toEqual(["A", "B"]);

    const inUrl = url.replace("mqtt://", `mqtt://${CONTROL_USER}:${CONTROL_PASSWORD}@`);
    const fromUrl = await runCli(["nodes", "--broker", inUrl, ...wait]);
    expect(fromUrl.code).toBe(0);
    expect(listed(fromUrl.out)).toEqual(["A", "B"]);
  });

  it("the flag wins over the environment, which wins over the URL", async () => {
    const badUrl = url.replace("mqtt://", `mqtt://${CONTROL_USER}:wrong-in-url@`);
    const r = await runCli(["nodes", "--broker", badUrl, ...wait], { TWINFLEET_PASSWORD: CONTROL_PASSWORD });
    expect(r.code).toBe(0);
    const flagWins = await runCli(["nodes", "--broker", url, ...login, ...wait], {
      TWINFLEET_USERNAME: "nobody",
      TWINFLEET_PASSWORD: "wrong-in-env",
    });
    expect(flagWins.code).toBe(0);
  });

  it("set, pair and unpair log in the same way", async () => {
    const set = await runCli(["set", "A", "on", "--broker", url, ...login, ...wait]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ node: "A", on: true, confirmed: true });
    const paired = await runCli(["pair", "A", "B", "--broker", url, ...login, ...wait]);
    expect(JSON.parse(paired.out)).toMatchObject({ follows: ["B"], confirmed: true });
    const unpaired = await runCli(["unpair", "A", "B", "--broker", url, ...login, ...wait]);
    expect(JSON.parse(unpaired.out)).toMatchObject({ follows: [], confirmed: true });
  });

  it("a wrong password is refused clearly, exit 1, and never shown", async () => {
    const secret = "Wr0ng-pa55word";
    for (const argv of [
      ["nodes", "--broker", url, "--username", CONTROL_USER, "--password", secret],
      ["set", "A", "on", "--broker", url.replace("mqtt://", `mqtt://${CONTROL_USER}:${secret}@`)],
    ]) {
      const r = await runCli([...argv, ...wait]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`the broker at ${url} refused the connection: bad user name or password`);
      expect(r.out + r.err).not.toContain(secret);
    }
    const env = await runCli(["pair", "A", "B", "--broker", url, ...wait], {
      TWINFLEET_USERNAME: CONTROL_USER,
      TWINFLEET_PASSWORD: secret,
    });
    expect(env.code).toBe(1);
    expect(env.err).toContain("bad user name or password");
    expect(env.out + env.err).not.toContain(secret);
  });

  // The service waits for a broker that is not there yet, not for one that refuses it.
  it("the twins service, which waits for an absent broker, still ends at once on a refused login or an untrusted certificate, exit 1", async () => {
    const secret = "Wr0ng-pa55word";
    const refused = await runCli([
      "twins",
      "--broker",
      url,
      "--username",
      CONTROL_USER,
      "--password",
      secret,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `twinfleet twins: the broker at ${url} refused the connection: bad user name or password`,
    );
    expect(refused.err).not.toContain("trying again");
    expect(refused.out + refused.err).not.toContain(secret);
    const untrusted = await runCli(["twins", "--broker", tlsUrl, ...login]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toContain(
      `twinfleet twins: cannot trust the broker at ${tlsUrl}: self-signed certificate`,
    );
    expect(untrusted.err).not.toContain("trying again");
  });
});

describe("TLS with a self-signed certificate", () => {
  it("fails naming --ca and --insecure without the CA, and works with --ca", async () => {
    const untrusted = await runCli(["nodes", "--broker", tlsUrl, ...login, ...wait]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toContain(`cannot trust the broker at ${tlsUrl}: self-signed certificate`);
    expect(untrusted.err).toContain("--ca <file>");
    expect(untrusted.err).toContain("--insecure");
    expect(untrusted.err).not.toContain(CONTROL_PASSWORD);

    const trusted = await runCli(["nodes", "--broker", tlsUrl, ...login, "--ca", fx.caFile, ...wait]);
    expect(trusted).toMatchObject({ code: 0, err: "" });
    expect(listed(trusted.out)).toEqual(["A", "B"]);
  });

  it("--insecure connects with a warning", async () => {
    const r = await runCli(["nodes", "--broker", tlsUrl, ...login, "--insecure", ...wait]);
    expect(r.code).toBe(0);
    expect(listed(r.out)).toEqual(["A", "B"]);
    expect(r.err).toMatch(/warning: --insecure: the certificate of mqtts:\/\/localhost:\d+ is not verified/);
  });

  it("TLS flags on a plain broker, or --cert without --key, are usage errors", async () => {
    const plain = await runCli(["nodes", "--broker", url, "--ca", fx.caFile]);
    expect(plain.code).toBe(2);
    expect(plain.err).toContain(`--ca is for an mqtts:// or wss:// broker; ${url} is not encrypted`);
    const half = await runCli(["nodes", "--broker", tlsUrl, "--cert", fx.caFile]);
    expect(half.code).toBe(2);
    expect(half.err).toContain("--cert and --key go together");
    const missing = await runCli(["nodes", "--broker", tlsUrl, "--ca", `${fx.dir}/nope.pem`]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`--ca: cannot read ${fx.dir}/nope.pem: no such file`);
  });
});

describe("errors and exit codes", () => {
  it("a bad --broker scheme names the flag and exits 2", async () => {
    const r = await runCli(["nodes", "--broker", "http://x"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--broker: expected an mqtt://, mqtts://, ws:// or wss:// URL, got http://x");
    expect(r.err).not.toContain("options.url");
    const withPw = await runCli(["monitor", "--broker", "http://u:pa55word@x"]);
    expect(withPw.code).toBe(2);
    expect(withPw.err).toContain("got http://x");
    expect(withPw.err).not.toContain("pa55word");
  });

  it("a URL that does not parse never repeats its password; an IPv6 host without brackets is told", async () => {
    for (const [args, said] of [
      [["nodes", "--broker", "mqtt://u:pa55word@::1:1883"], "as in mqtt://[::1]:1883, got mqtt://::1:1883"],
      [["sim", "--headless", "--broker", "mqtt://u:pa55word@fd00::5:1883"], "as in mqtt://[fd00::5]:1883"],
      [["nodes", "--broker", "mqtt://u:pa55word@[::1]:99999"], "got mqtt://[::1]:99999"],
      [["nodes", "--broker", "u:pa55word@lab:1883"], "got lab:1883"],
      [
        ["sim", "--headless", "--broker", "mqtt://u:pa/55word@lab:0"],
        'the port must be 1-65535, got "mqtt://lab:0"',
      ],
      [["broker", "--redis", "redis://:pa55word@::1:6379"], 'got "redis://::1:6379"'],
      [
        ["broker", "--redis", "redis://:pa55word@r1/x"],
        'names database "x": must be a number, got "redis://r1/x"',
      ],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toContain(said);
      expect(r.err).not.toContain("55word");
    }
  });

  it("a refused connection says it was the broker, without the password, and exits 1", async () => {
    const port = await closedPort();
    const r = await runCli(["nodes", "--broker", `mqtt://ctl:pa55word@127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `twinfleet nodes: cannot reach the broker at mqtt://127.0.0.1:${port}: connection refused\n`,
    );
  });

  // A run is a measurement: it does not wait for a broker as `twins` does. Its setup reaches the
  // broker (its twins service) before the nodes boot (fleet/setup.ts), so nothing else is said.
  it("a sim run on a broker not there ends with the one line, exit 1, without waiting", async () => {
    const port = await closedPort();
    const r = await runCli([
      "sim",
      "--headless",
      "--broker",
      `mqtt://127.0.0.1:${port}`,
      "--nodes",
      "5",
      "--duration",
      "5",
    ]);
    expect(r).toMatchObject({
      code: 1,
      out: "",
      err: `twinfleet sim: cannot reach the broker at mqtt://127.0.0.1:${port}: connection refused\n`,
    });
  });

  it("an HTTP server where the broker should be is named as not speaking MQTT, exit 1", async () => {
    const web = createHttpServer((_req, res) => res.end("hello"));
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    const { port } = web.address() as AddressInfo;
    try {
      const r = await runCli(["nodes", "--broker", `mqtt://127.0.0.1:${port}`, ...wait]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `twinfleet nodes: cannot connect to the broker at mqtt://127.0.0.1:${port}: what answered there does not speak MQTT (`,
      );
      expect(r.err).toContain("ws:// or wss://");
    } finally {
      await new Promise<void>((resolve) => web.close(() => resolve()));
    }
  });

  it("a short password is masked as the URL's password only: the address stays readable", async () => {
    const port = await closedPort();
    const r = await runCli([
      "nodes",
      "--broker",
      `mqtt://127.0.0.1:${port}`,
      "--username",
      "u",
      "--password",
      "0",
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `twinfleet nodes: cannot reach the broker at mqtt://127.0.0.1:${port}: connection refused\n`,
    );
  });

  it("a password without a user name is refused before connecting, exit 2 (the broker would not answer)", async () => {
    const port = await closedPort();
    const expected = "a password needs a user name (MQTT sends no password without one)";
    for (const [argv, env] of [
      [["nodes", "--broker", `mqtt://127.0.0.1:${port}`, "--password", "pw"], {}],
      [["twins", "--broker", `mqtt://127.0.0.1:${port}`], { TWINFLEET_PASSWORD: "pw" }],
      [["monitor", "--broker", `mqtt://:pw@127.0.0.1:${port}`], {}],
      [["sim", "--headless", "--broker", `mqtt://127.0.0.1:${port}`, "--password", "pw"], {}],
    ] as const) {
      const r = await runCli([...argv], env);
      expect(r.code).toBe(2);
      expect(r.err).toContain(expected);
      expect(r.err).not.toContain("cannot reach");
    }
  });

  it("usage errors exit 2 across commands; --profile nope lists the profiles", async () => {
    const profile = await runCli(["sim", "--headless", "--nodes", "2", "--profile", "nope"]);
    expect(profile.code).toBe(2);
    expect(profile.err).toContain(
      'no device profile "nope"; the profiles are due-w5100, ideal, linux-client, uno-w5100',
    );
    expect((await runCli(["nodes", "--broker", url, "--wait", "soon"])).code).toBe(2);
    expect((await runCli(["pair", "A", "A", "--broker", url])).err).toContain(
      "a node cannot follow itself (A)",
    );
    const notPaired = await runCli(["unpair", "A", "B", "--broker", url, ...login, ...wait]);
    expect(notPaired).toMatchObject({ code: 1, err: expect.stringContaining("A does not follow B") });
    expect((await runCli(["nodes", "--brokr", url])).code).toBe(2);
    const swallowed = await runCli(["nodes", "--broker", "--wait", "300"]);
    expect(swallowed).toMatchObject({ code: 2, out: "" });
    expect(swallowed.err).toContain(
      "twinfleet nodes: --broker: needs a value, and the next word is the flag --wait: give --broker a value before it",
    );
    expect((await runCli(["broker", "--port", "99999"])).code).toBe(2);
    expect((await runCli(["--log-level", "loud", "nodes", "--broker", url])).code).toBe(2);
    expect((await runCli(["sim", "--username", "ctl"])).err).toContain("--username is for a --broker");
    expect((await runCli(["nodes", "--broker", url, "--password", "a", "--password-file", "b"])).code).toBe(
      2,
    );
  });
});
