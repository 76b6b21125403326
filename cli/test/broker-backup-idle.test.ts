/**
 * `twinfleet broker backup` facing a broker that goes silent or a server that is none: a broker
 * stopped before its answer or half-way through the stream (`kill -STOP`, a partition) is given up
 * once --idle-timeout passes on the command's clock with nothing from it, named with its address and
 * how long nothing came, the partial copy removed and nothing left at --out (exit 1); a refusal is
 * read to REFUSAL_MAX_BYTES, not whole. Before, the command waited for ever, its partial copy on the
 * disk, and read a refusal without end until it filled the memory.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { endless } from "../../node/test/fake-peer.js";
import { REFUSAL_MAX_BYTES, runBrokerBackup } from "../commands/broker-backup-run.js";
import { runMain } from "./run-main.js";

let dir: string;
const servers: { closeAllConnections?(): void; close(cb: () => void): unknown }[] = [];
const sockets: Socket[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-backup-idle-"));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections?.();
    await new Promise<void>((done) => s.close(() => done()));
  }
  await rm(dir, { recursive: true, force: true });
});

async function listening(s: TcpServer): Promise<string> {
  await new Promise<void>((ready) => s.listen(0, "127.0.0.1", ready));
  const address = s.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

function serving(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  return listening(s);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const MAGIC = Buffer.from("twinfleet-store-backup 1\n");
const io = { stdout: () => {}, stderr: () => {} };

/** Runs the backup on `clock`, moving it a second at a time (the host a turn between) until it ends. */
async function backupOn(
  clock: FakeScheduler,
  out: string,
  origin: string,
  ready: () => boolean,
): Promise<Error | undefined> {
  let ended: Error | undefined | null = null;
  runBrokerBackup({ out, idleTimeout: "5000" }, { http: origin }, io, { scheduler: clock }).then(
    () => {
      ended = undefined;
    },
    (e: Error) => {
      ended = e;
    },
  );
  for (let i = 0; i < 3000 && !ready(); i++) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 3000 && ended === null; i++) {
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (ended === null) throw new Error("the backup did not end");
  return ended;
}

it("gives up a broker that stops half-way through the stream, naming it, and leaves nothing", async () => {
  const origin = await serving((_req, res) => {
    res.writeHead(200, { "content-type": "application/vnd.twinfleet.store-backup" });
    // One record, then nothing more: the broker stopped (kill -STOP) with the connection open.
    res.write(Buffer.concat([MAGIC, u32(1), Buffer.from("k"), u32(1), Buffer.from("v")]));
  });
  const out = join(dir, "b");
  const clock = new FakeScheduler();
  // Advanced once the answer came and its partial copy was opened.
  const err = await backupOn(clock, out, origin, () => readdirSync(dir).length > 0);
  expect(err?.message).toBe(
    `nothing came from the broker at ${origin} for 5 s (--idle-timeout 5000), after 35 bytes of the backup: it is stopped (kill -STOP, a host frozen or suspended), or the network between dropped the connection without a word; nothing was written at ${out} (the partial copy was removed)`,
  );
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
  // Not given up before the idle time had passed with nothing.
  expect(clock.now()).toBeGreaterThanOrEqual(5000);
}, 60_000);

it("gives up a broker that takes the request and never answers", async () => {
  const silent = createTcpServer((s) => sockets.push(s));
  servers.push(silent);
  const origin = await listening(silent);
  const out = join(dir, "b");
  const clock = new FakeScheduler();
  const err = await backupOn(clock, out, origin, () => sockets.length > 0);
  expect(err?.message).toBe(
    `nothing came from the broker at ${origin} for 5 s (--idle-timeout 5000), before the start of its answer: it is stopped (kill -STOP, a host frozen or suspended), or the network between dropped the connection without a word; nothing was written at ${out}`,
  );
  expect(readdirSync(dir)).toEqual([]);
}, 60_000);

it("reads a refusal to its bound, names it, and lets the server go", async () => {
  const peer = endless();
  const origin = await serving((_req, res) =>
    peer.answer(res, 500, "text/html", "", Buffer.alloc(256 * 1024, 0x3c)),
  );
  const out = join(dir, "b");
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    `the server at ${origin} answered 500 with more than 64 kB, where a broker's refusal is a line: the rest was not read (is --http a twinfleet broker's --http?); nothing was written at ${out}`,
  );
  await peer.gone;
  expect(peer.sent()).toBeLessThan(REFUSAL_MAX_BYTES + 32 * 1024 * 1024);
  expect(readdirSync(dir)).toEqual([]);
}, 60_000);

it("takes --idle-timeout as whole milliseconds", async () => {
  const r = await runMain(
    "broker",
    "backup",
    "--http",
    "127.0.0.1:1",
    "--out",
    join(dir, "b"),
    "--idle-timeout",
    "5s",
  );
  expect(r.code).toBe(2);
  expect(r.err).toContain("--idle-timeout must be a whole number of milliseconds, at least 100");
});
