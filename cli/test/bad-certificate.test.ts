/**
 * Tools against a broker whose certificate they must refuse — expired, not yet valid, for another
 * host, signed by a CA they were not given — with real certificates (openssl, fixed dates far from
 * today) on brokers on port 0: one line saying which and what to do about it, exit 1, no retrying.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { makeCa } from "../../broker/test/certs.js";
import { runCli } from "./auth-broker.js";

const HERE = "DNS:localhost,IP:127.0.0.1";
let dir: string;
let caFile: string;
const brokers = new Map<string, RunningBroker>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-badcert-"));
  const ca = makeCa(dir);
  caFile = ca.caFile;
  const other = makeCa(dir, "another CA");
  const certs = {
    expired: ca.issue("expired", { names: HERE, start: "20200101000000Z", end: "20210101000000Z" }),
    future: ca.issue("future", { names: HERE, start: "20900101000000Z", end: "20910101000000Z" }),
    elsewhere: ca.issue("elsewhere", {
      names: "DNS:elsewhere.example",
      start: "20200101000000Z",
      end: "20900101000000Z",
    }),
    unknown: other.issue("unknown", { names: HERE, start: "20200101000000Z", end: "20900101000000Z" }),
  };
  for (const [name, { keyFile, certFile }] of Object.entries(certs))
    brokers.set(name, await startBroker({ host: "127.0.0.1", port: 0, tls: { port: 0, keyFile, certFile } }));
});
afterAll(async () => {
  await Promise.all([...brokers.values()].map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("a broker certificate the tools refuse", () => {
  it.each([
    ["expired", "certificate has expired; the broker must be given a renewed certificate"],
    ["future", "certificate is not yet valid; this machine's clock is behind"],
    [
      "elsewhere",
      "Host: localhost. is not in the cert's altnames: DNS:elsewhere.example; connect by a name or address the certificate holds",
    ],
    ["unknown", "unable to verify the first certificate; give its CA with --ca <file>"],
  ])("%s: nodes and set say why in one line and exit 1", async (name, said) => {
    const url = `mqtts://localhost:${brokers.get(name)?.tlsPort}`;
    for (const argv of [
      ["nodes", "--broker", url, "--ca", caFile],
      ["set", "lamp-1", "on", "--broker", url, "--ca", caFile],
    ]) {
      const r = await runCli(argv);
      expect(r.code).toBe(1);
      expect(r.err.startsWith(`twinfleet ${argv[0]}: cannot trust the broker at ${url}: `)).toBe(true);
      expect(r.err).toContain(said);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    }
  });
});
