// A kill -9 of a process in the middle of its appends: the directory it leaves starts, and holds every
// change whose write had been answered, whatever the append or rewrite the kill cut; so does the
// directory after the next process took on what it left (its journal, or after a clean stop the
// snapshot marked in place) and was killed in turn.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { jsonFileStore } from "../store.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The writer: 2,000 nodes (those stored, or new ones), 200 of them changed per batch, each record about
 * 4 kB, the batches numbered from `first`; says each batch answered. With `stopAfter`, it stops cleanly
 * after that many (the service's last save, folding the journal in) and says `stopped`.
 */
const writer = (dir: string, first: number, stopAfter?: number) => `
import { pino } from "pino";
import { DesireSaver } from ${JSON.stringify(fileURLToPath(new URL("../desire-saver.ts", import.meta.url)))};
import { jsonFileStore } from ${JSON.stringify(fileURLToPath(new URL("../store.ts", import.meta.url)))};
const store = await jsonFileStore(${JSON.stringify(dir)});
const nodes = (await store.load()).nodes;
const rec = (v) => ({ sources: [], configVersion: v, firmware: "x".repeat(4000) });
if (Object.keys(nodes).length === 0) for (let i = 0; i < 2000; i++) nodes["n-" + i] = rec(0);
const saver = new DesireSaver(store, {
  whole: () => ({ nodes: { ...nodes } }),
  records: (ids) => new Map([...ids].map((id) => [id, nodes[id]])),
}, pino({ level: "silent" }));
for (let batch = ${first}; ; batch++) {
  for (let k = 0; k < 200; k++) {
    const id = "n-" + ((batch * 200 + k) % 2000);
    nodes[id] = rec(batch);
    saver.save(id);
  }
  if ((await saver.written()) !== undefined) process.exit(3);
  process.stdout.write("answered " + batch + "\\n");
  if (${stopAfter ?? 0} > 0 && batch - ${first} + 1 === ${stopAfter ?? 0}) {
    saver.save();
    await saver.close();
    await store.close();
    process.stdout.write("stopped\\n");
    process.exit(0);
  }
}
`;

/** Runs a writer on `dir` until `until` batches are answered, then kills it (or until it stops); the last answered. */
async function run(dir: string, first: number, until: number, stopAfter?: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", writer(dir, first, stopAfter)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let answered = 0;
  let stopped = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      for (const m of b.toString().matchAll(/answered (\d+)/g)) answered = Number(m[1]);
      if (b.toString().includes("stopped")) stopped = true;
      if (stopAfter === undefined && answered >= until) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.once("exit", (code) =>
      answered >= until && (stopAfter === undefined || stopped)
        ? resolve()
        : reject(new Error(`the writer exited ${code} after batch ${answered}`)),
    );
  });
  await exited;
  return answered;
}

it("a kill -9 mid-append, again after taking the journal on and after a clean stop, loses no answered change", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-journal-kill-"));
  // Past a rewrite of the snapshot (a journal outgrows 8 MB after about ten batches), then killed;
  // the next run takes that journal on and is killed; one more stops cleanly; the last takes on the
  // snapshot that stop left, and is killed.
  const rounds: [number, number][] = [];
  const last1 = await run(dir, 1, 15);
  rounds.push([Math.max(1, last1 - 9), last1]);
  rounds.push([101, await run(dir, 101, 103)]);
  rounds.push([201, await run(dir, 201, 203, 3)]);
  rounds.push([301, await run(dir, 301, 303)]);
  const store = await jsonFileStore(dir);
  const { nodes } = await store.load();
  await store.close();
  expect(Object.keys(nodes)).toHaveLength(2000);
  // Every batch answered is stored: a node's version is at least the last answered batch that changed it.
  for (const [from, to] of rounds)
    for (let batch = from; batch <= to; batch++)
      for (let k = 0; k < 200; k++) {
        const id = `n-${(batch * 200 + k) % 2000}`;
        expect(nodes[id]?.configVersion).toBeGreaterThanOrEqual(batch);
      }
}, 240_000);
