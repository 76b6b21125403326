/**
 * A backup stream in a format this build does not read: a broker of a later build answers `/backup`
 * with its own format, which `twinfleet broker backup` names (a newer twinfleet), writing nothing,
 * rather than calling the answer no backup at all.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BackupReader } from "../../broker/index.js";
import { runMain } from "./run-main.js";

let dir: string;
let server: Server | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-backup-format-"));
});
afterEach(async () => {
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** An HTTP server answering GET /backup with `body`, as a broker's --http does; its origin. */
async function answering(body: Buffer): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/vnd.twinfleet.store-backup" });
    res.end(body);
  });
  server = s;
  await new Promise<void>((ready) => s.listen(0, "127.0.0.1", ready));
  const address = s.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

it("names a stream of a newer format, and writes nothing", async () => {
  const origin = await answering(Buffer.from("twinfleet-store-backup 2\n\0\0\0\x04keys"));
  const out = join(dir, "b");
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    "the broker's backup stream is in format 2, written by a newer twinfleet; this one reads format 1: take the backup with a twinfleet broker backup of the broker's build or later",
  );
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
}, 30_000);

it("still calls an answer that is no backup one, and reads this format's first line in pieces", () => {
  expect(() => new BackupReader().push(Buffer.from("<!doctype html>\n<html>…</html>"))).toThrow(
    "the answer is not a twinfleet store backup",
  );
  expect(() => new BackupReader().push(Buffer.from("twinfleet-store-backup 0\n"))).toThrow(
    "the answer is not a twinfleet store backup",
  );
  const reader = new BackupReader();
  expect(reader.push(Buffer.from("twinfleet-store"))).toEqual([]);
  const end = Buffer.alloc(8);
  end.writeUInt32BE(0xffffffff, 0);
  const summary = { keys: 0, bytes: 0, retained: 0, sessions: 0 };
  const json = Buffer.from(JSON.stringify(summary));
  end.writeUInt32BE(json.length, 4);
  expect(reader.push(Buffer.concat([Buffer.from("-backup 1\n"), end, json]))).toEqual([{ summary }]);
});
