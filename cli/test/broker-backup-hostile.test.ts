/**
 * `twinfleet broker backup` against a peer whose stream is no broker's: a record length no store
 * holds (a peer that would have it wait for gigabytes, or bytes garbled on the way) and a summary
 * that is not one are named where they are, the partial copy removed and nothing left at --out,
 * instead of buffering the stream without bound.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { BackupReader } from "../../broker/index.js";
import { endless, fakePeers } from "../../node/test/fake-peer.js";
import { runMain } from "./run-main.js";

let dir: string;
const { serve: serving } = fakePeers();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-backup-hostile-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const MAGIC = Buffer.from("twinfleet-store-backup 1\n");

it("names a key of 4 GB at once, and lets the peer's endless stream go, writing nothing", async () => {
  const peer = endless();
  const origin = await serving((_req, res) =>
    peer.answer(
      res,
      200,
      "application/vnd.twinfleet.store-backup",
      Buffer.concat([MAGIC, u32(0xfffffff0)]),
      Buffer.alloc(64 * 1024),
    ),
  );
  const out = join(dir, "b");
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    "the backup stream is garbled at byte 25: it gives a key of 4294967280 bytes, where the longest is 1048576; no record of a broker's store is that long; nothing was written at",
  );
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
  await peer.gone;
  expect(peer.sent()).toBeLessThan(256 * 1024 * 1024);
}, 60_000);

it("names a value longer than any MQTT packet, and a summary that is not one", () => {
  const record = Buffer.concat([u32(1), Buffer.from("k"), u32(0xc3c0ffee)]);
  expect(() => new BackupReader().push(Buffer.concat([MAGIC, record]))).toThrow(
    "the backup stream is garbled at byte 25: it gives a value of 3284205550 bytes, where the longest is 268500996 (an MQTT packet of the largest size)",
  );
  const json = Buffer.from("{not json");
  const bad = Buffer.concat([MAGIC, u32(0xffffffff), u32(json.length), json]);
  expect(() => new BackupReader().push(bad)).toThrow(
    `the backup stream's summary is not one ("{not json"): the stream is garbled`,
  );
  const counts = Buffer.from(JSON.stringify({ keys: "many", bytes: 1, retained: 0, sessions: 0 }));
  expect(() =>
    new BackupReader().push(Buffer.concat([MAGIC, u32(0xffffffff), u32(counts.length), counts])),
  ).toThrow("the backup stream's summary is not one");
});

it("keeps a record that comes in many chunks waiting unjoined until it is whole: copied once, not once a chunk", () => {
  let copied = 0;
  const concat = Buffer.concat;
  const spy = vi.spyOn(Buffer, "concat").mockImplementation((list, length) => {
    const joined = concat(list, length);
    copied += joined.length;
    return joined;
  });
  const reader = new BackupReader();
  const value = Buffer.alloc(3 * 1024 * 1024, 7);
  const stream = concat([MAGIC, u32(3), Buffer.from("key"), u32(value.length), value]);
  spy.mockClear();
  let items: ReturnType<BackupReader["push"]> = [];
  for (let at = 0; at < stream.length; at += 1024) {
    items = reader.push(stream.subarray(at, at + 1024));
    if (at + 1024 < stream.length) expect(items).toEqual([]);
  }
  spy.mockRestore();
  expect(items).toHaveLength(1);
  const item = items[0] as { key: Buffer; value: Buffer };
  expect(item.key.toString()).toBe("key");
  expect(item.value.equals(value)).toBe(true);
  // Joined once when whole (and the first chunks while the header came): about the stream's size.
  expect(copied).toBeLessThan(2 * stream.length);
});
