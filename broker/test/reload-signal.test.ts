/**
 * `twinfleet broker` on SIGHUP (broker/command.ts): the --auth file and the TLS key and certificate
 * read again and put in force, or — a file now bad — the running configuration kept with one error
 * naming the file and what is wrong with it. Certificates are judged at an injected date.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBrokerCommand } from "../command.js";
import { hashPassword } from "../credentials.js";
import type { RunningBroker } from "../server.js";
import { makeCa } from "./certs.js";
import { client, closeAll, once } from "./helpers.js";

interface Line {
  readonly level: number;
  readonly msg: string;
}

/** A logger whose lines a test can wait for. */
function watchedLogger() {
  const lines: Line[] = [];
  const waiting: { re: RegExp; resolve: (l: Line) => void }[] = [];
  const logger = pino(
    { level: "info" },
    {
      write(s: string) {
        const line = JSON.parse(s) as Line;
        lines.push(line);
        for (const w of waiting.splice(0)) {
          if (w.re.test(line.msg)) w.resolve(line);
          else waiting.push(w);
        }
      },
    },
  );
  const next = (re: RegExp) => new Promise<Line>((resolve) => waiting.push({ re, resolve }));
  return { lines, logger, next };
}

const NOW = Date.parse("2026-06-01T00:00:00Z");
let dir: string;
let hash: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-hup-"));
  hash = await hashPassword("pw");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const authFile = () => join(dir, "auth.json");
const writeUsers = (names: readonly string[]) =>
  writeFile(
    authFile(),
    JSON.stringify({ users: Object.fromEntries(names.map((n) => [n, { role: "control", password: hash }])) }),
  );

/**
 * The first test's time limit, by its work: 7 openssl runs (a CA, three keys and certificates it
 * signs), three scrypt hashes (the password file's and two logins, 16 MiB each), a broker started and
 * three reloads, on CPU the test shares with the host. At load average 21-33 it took 14-31 s, past
 * the 30 s a test is given by default (the two logins alone 2-4 s each); 90 s.
 */
const LIMIT_MS = 90_000;

describe("SIGHUP", { timeout: LIMIT_MS }, () => {
  it("reloads --auth and the TLS files, cuts the removed user and logs and counts the reload", async () => {
    const ca = makeCa(dir);
    const names = "DNS:localhost,IP:127.0.0.1";
    const first = ca.issue("hup-first", { names, start: "20260101000000Z", end: "20270101000000Z" });
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await writeFile(keyFile, readFileSync(first.keyFile));
    await writeFile(certFile, readFileSync(first.certFile));
    await writeUsers(["ops", "old"]);
    const { lines, logger, next } = watchedLogger();
    const hangUpListeners = process.listenerCount("SIGHUP");
    const abort = new AbortController();
    let broker: RunningBroker | undefined;
    const listening = next(/^twinfleet|broker listening/);
    const run = runBrokerCommand(
      { host: "127.0.0.1", port: "0", auth: authFile(), tlsPort: "0", tlsKey: keyFile, tlsCert: certFile },
      {
        logger,
        signal: abort.signal,
        now: () => NOW,
        onListening: (b) => {
          broker = b;
          logger.info("broker listening");
        },
      },
    );
    const open: MqttClient[] = [];
    try {
      await listening;
      const url = broker?.url ?? "";
      const old = await client(url, { username: "old", password: "pw", clientId: "old-1" });
      const ops = await client(url, { username: "ops", password: "pw", clientId: "ops-1" });
      open.push(old, ops);

      // A bad file: one error naming it and what is wrong, and nothing changes.
      await writeFile(authFile(), '{"users": {');
      let line = next(/SIGHUP/);
      process.emit("SIGHUP");
      expect(await line).toMatchObject({
        level: 50,
        msg: expect.stringMatching(
          /^reload on SIGHUP failed: --auth: credentials file .*auth\.json is not JSON: .*; nothing was changed, the running configuration is kept/,
        ),
      });
      // A certificate that has expired by now is refused the same way, and the rest with it.
      await writeUsers(["ops"]);
      const expired = ca.issue("hup-expired", { names, start: "20250101000000Z", end: "20260101000000Z" });
      await writeFile(keyFile, readFileSync(expired.keyFile));
      await writeFile(certFile, readFileSync(expired.certFile));
      line = next(/SIGHUP/);
      process.emit("SIGHUP");
      expect((await line).msg).toMatch(
        /^reload on SIGHUP failed: --tls-cert: the certificate in .*cert\.pem has expired \(valid until 2026-01-01T00:00:00\.000Z\); nothing was changed/,
      );
      expect(old.connected).toBe(true);
      expect(broker?.figures.tally.reloads).toEqual({ ok: 0, failed: 2 });
      expect(broker?.figures.tally.lastReloadOk).toBe(false);

      // Fixed: the removed user is cut, the other stays, the new certificate is served.
      const renewed = ca.issue("hup-renewed", { names, start: "20260101000000Z", end: "20280101000000Z" });
      await writeFile(keyFile, readFileSync(renewed.keyFile));
      await writeFile(certFile, readFileSync(renewed.certFile));
      const cut = once(old, "close");
      line = next(/SIGHUP/);
      process.emit("SIGHUP");
      expect((await line).msg).toMatch(
        /^reloaded on SIGHUP: --auth .*auth\.json: 1 connection cut, 0 kept under changed rules; TLS certificate .*cert\.pem for new connections, valid until 2028-01-01T00:00:00\.000Z$/,
      );
      await cut;
      expect(ops.connected).toBe(true);
      expect(broker?.figures.tally.reloads).toEqual({ ok: 1, failed: 2 });
      expect(broker?.figures.tally.lastReloadOk).toBe(true);
      expect(broker?.figures.tally.certificateNotAfter).toBe(Date.parse("2028-01-01T00:00:00Z"));
      expect(
        lines.some((l) => /connection cut: its user is no longer in the credentials file/.test(l.msg)),
      ).toBe(true);
    } finally {
      await closeAll(...open);
      abort.abort();
      await run;
    }
    // Once stopped, the broker no longer answers SIGHUP (the process's own default is back).
    expect(process.listenerCount("SIGHUP")).toBe(hangUpListeners);
  });

  it("warns at start of a certificate that has expired, and serves it (there is nothing else)", async () => {
    const ca = makeCa(dir, "start CA");
    const old = ca.issue("start-expired", {
      names: "DNS:localhost",
      start: "20250101000000Z",
      end: "20260101000000Z",
    });
    const { logger, next } = watchedLogger();
    const abort = new AbortController();
    const warned = next(/--tls-cert/);
    const run = runBrokerCommand(
      { host: "127.0.0.1", port: "0", tlsPort: "0", tlsKey: old.keyFile, tlsCert: old.certFile },
      { logger, signal: abort.signal, now: () => NOW, onListening: () => abort.abort() },
    );
    await run;
    expect(await warned).toMatchObject({
      level: 40,
      msg: expect.stringMatching(
        /has expired \(valid until 2026-01-01T00:00:00\.000Z\): clients that check it will refuse it$/,
      ),
    });
  });
});
