/**
 * One service's --data given to the other: each kept its files beside the other's and said nothing,
 * so a swapped pair of flags showed only later (a twins service without its pairings, a broker
 * without its retained messages). Now each warns as it starts and runs on. Real directories; the
 * twins command on a real broker on port 0.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { changed, startTestBroker, until } from "../../twins/test/helpers.js";
import { brokerStoreIn, twinsStoreIn } from "../data-dir-mixup.js";
import { main } from "../main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function dir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "data-mixup-"));
  open.push({ close: () => rm(d, { recursive: true, force: true }) });
  await mkdir(d, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

const LEVEL = { CURRENT: "MANIFEST-000002\n", "MANIFEST-000002": "", LOCK: "" };

it("twins --data on a broker's store says so as it starts, and serves on", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const d = await dir(LEVEL);
  let err = "";
  const running = main(["twins", "--broker", broker.url, "--data", d], {
    stdout: () => {},
    stderr: (s) => {
      err += s;
      changed();
    },
  });
  await until(() => err.includes("connected and queried"), "the service connected");
  expect(err).toContain(
    `WARN  twins: --data ${d} holds a broker's store (LevelDB: CURRENT, MANIFEST-000002) and no twins.json: is it the broker's --data? The twins service keeps its twins.json beside it, starting with no stored desire; give each service a directory of its own`,
  );
  process.emit("SIGINT");
  expect(await running).toBe(0);
});

it("tells a broker's --data holding a twins service's store, and neither of a directory of its own", async () => {
  const twins = await dir({ "twins.json": "{}" });
  expect(twinsStoreIn(twins)).toBe(
    `--data ${twins} holds a twins service's store (twins.json) and no broker store: is it the twins service's --data? The broker keeps its LevelDB store beside it, starting empty (no sessions, no retained messages); give each service a directory of its own`,
  );
  const both = await dir({ ...LEVEL, "twins.json": "{}" });
  expect(twinsStoreIn(both)).toMatch(/holds a twins service's store \(twins\.json\): is it/);
  expect(brokerStoreIn(both)).toMatch(/holds a broker's store \(LevelDB: CURRENT, MANIFEST-000002\): is it/);
  const level = await dir(LEVEL);
  expect(twinsStoreIn(level)).toBeUndefined();
  expect(brokerStoreIn(twins)).toBeUndefined();
  expect(brokerStoreIn(join(level, "absent"))).toBeUndefined();
});
