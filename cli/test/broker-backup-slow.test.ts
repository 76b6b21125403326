/**
 * `twinfleet broker backup` against a broker that trickles (a byte now and then, never silent for
 * --idle-timeout) and when the command itself did not run (kill -STOP of the command, a laptop
 * suspended) longer than --idle-timeout (cli/commands/backup-idle.ts). Before, the trickle reset the
 * silence at every byte and the command waited for ever; and a command stopped past --idle-timeout
 * gave the backup up as it ran again, before reading what the broker had sent meanwhile.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { BACKUP_MIN_BYTES_PER_S, BACKUP_PROGRESS_MS } from "../commands/backup-idle.js";
import { runBrokerBackup } from "../commands/broker-backup-run.js";

let dir: string;
let server: ReturnType<typeof createServer> | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-backup-slow-"));
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const MAGIC = Buffer.from("twinfleet-store-backup 1\n");
const RECORD = Buffer.concat([u32(1), Buffer.from("k"), u32(1), Buffer.from("v")]);
const summary = JSON.stringify({ keys: 1, bytes: 2, retained: 0, sessions: 0 });
const END = Buffer.concat([u32(0xffffffff), u32(summary.length), Buffer.from(summary)]);

/** A broker's --http whose answer the test writes; resolves to its origin and the answer, once asked. */
async function broker(): Promise<{ origin: string; answer: Promise<ServerResponse> }> {
  let answered: (res: ServerResponse) => void = () => {};
  const answer = new Promise<ServerResponse>((r) => {
    answered = r;
  });
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/vnd.twinfleet.store-backup" });
    res.write(MAGIC);
    answered(res);
  });
  await new Promise<void>((ready) => server?.listen(0, "127.0.0.1", ready));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { origin: `http://127.0.0.1:${address.port}`, answer };
}

const turn = (ms = 10) => new Promise((r) => setTimeout(r, ms));

function backup(clock: FakeScheduler, out: string, origin: string, lines: string[]) {
  const ended: { error?: Error | undefined; done: boolean } = { done: false };
  const io = { stdout: () => {}, stderr: (s: string) => lines.push(s) };
  runBrokerBackup({ out, idleTimeout: "5000" }, { http: origin }, io, { scheduler: clock }).then(
    () => Object.assign(ended, { done: true }),
    (error: Error) => Object.assign(ended, { error, done: true }),
  );
  return ended;
}

it("gives up a broker that sends a byte a second, under the least a backup must bring", async () => {
  const { origin, answer } = await broker();
  const out = join(dir, "b");
  const clock = new FakeScheduler();
  const ended = backup(clock, out, origin, []);
  const res = await answer;
  for (let i = 0; i < 3000 && readdirSync(dir).length === 0; i++) await turn();
  // A byte of the record each second of the command's clock: never silent for 5 s.
  for (let s = 0; s < 120 && !ended.done; s++) {
    res.write(RECORD.subarray(s % RECORD.length, (s % RECORD.length) + 1));
    await turn(30);
    clock.advance(1000);
    await turn(30);
  }
  for (let i = 0; i < 300 && !ended.done; i++) await turn();
  expect(ended.done).toBe(true);
  const least = 5 * BACKUP_MIN_BYTES_PER_S;
  expect(ended.error?.message).toMatch(
    new RegExp(
      `^only \\d+ bytes came from the broker at ${origin} in 5 s \\(--idle-timeout 5000\\), under the ${least} a backup must bring in that time \\(1024 a second\\), after \\d+ bytes of the backup: the broker or the network between hardly moves`,
    ),
  );
  expect(ended.error?.message).toContain(`nothing was written at ${out} (the partial copy was removed)`);
  // Given up within one --idle-timeout of waiting, not before it.
  expect(clock.now()).toBeGreaterThanOrEqual(5000);
  expect(clock.now()).toBeLessThanOrEqual(8000);
  expect(existsSync(out)).toBe(false);
}, 60_000);

it("does not give the backup up for the time the command itself did not run, and reads what came meanwhile", async () => {
  const { origin, answer } = await broker();
  const out = join(dir, "b");
  const clock = new FakeScheduler();
  const lines: string[] = [];
  const ended = backup(clock, out, origin, lines);
  const res = await answer;
  for (let i = 0; i < 3000 && readdirSync(dir).length === 0; i++) await turn();
  clock.advance(1000);
  await turn();
  // The broker sends the rest while the command is stopped for 20 s (> --idle-timeout 5 s): when it
  // runs again its timers come due first, before it reads the socket.
  res.end(Buffer.concat([RECORD, END]));
  clock.jump(20_000);
  for (let i = 0; i < 3000 && !ended.done; i++) await turn();
  expect(ended.error).toBeUndefined();
  expect(existsSync(out)).toBe(true);
  expect(lines.join("")).toContain(`written from ${origin}`);
}, 60_000);

it("tells how far a backup under way has come, every 30 s", async () => {
  const { origin, answer } = await broker();
  const clock = new FakeScheduler();
  const lines: string[] = [];
  const ended = backup(clock, join(dir, "b"), origin, lines);
  const res = await answer;
  for (let i = 0; i < 3000 && readdirSync(dir).length === 0; i++) await turn();
  // 8 kB a second: a slow link, well over the least.
  for (let s = 0; s * 1000 < BACKUP_PROGRESS_MS; s++) {
    res.write(Buffer.concat([u32(1), Buffer.from("k"), u32(8192), Buffer.alloc(8192)]));
    await turn(30);
    clock.advance(1000);
    await turn(30);
  }
  expect(ended.done).toBe(false);
  expect(lines.filter((l) => l.includes("bytes from") && l.includes("so far"))).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^twinfleet broker backup: \\d+ bytes from ${origin} so far\\n$`));
}, 60_000);
