// A kill -9 of a process in the middle of its appends: the directory it leaves starts, and holds every
// change whose write had been answered, whatever the append or rewrite the kill cut.
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

/** The writer: 2,000 nodes, 200 of them changed per batch, each record about 4 kB; says each batch answered. */
const writer = (dir: string) => `
import { pino } from "pino";
import { DesireSaver } from ${JSON.stringify(fileURLToPath(new URL("../desire-saver.ts", import.meta.url)))};
import { jsonFileStore } from ${JSON.stringify(fileURLToPath(new URL("../store.ts", import.meta.url)))};
const store = await jsonFileStore(${JSON.stringify(dir)});
await store.load();
const nodes = {};
const rec = (v) => ({ sources: [], configVersion: v, firmware: "x".repeat(4000) });
for (let i = 0; i < 2000; i++) nodes["n-" + i] = rec(0);
const saver = new DesireSaver(store, {
  whole: () => ({ nodes: { ...nodes } }),
  records: (ids) => new Map([...ids].map((id) => [id, nodes[id]])),
}, pino({ level: "silent" }));
for (let batch = 1; ; batch++) {
  for (let k = 0; k < 200; k++) {
    const id = "n-" + ((batch * 200 + k) % 2000);
    nodes[id] = rec(batch);
    saver.save(id);
  }
  if ((await saver.written()) !== undefined) process.exit(3);
  process.stdout.write("answered " + batch + "\\n");
}
`;

it("a kill -9 mid-append leaves a directory that starts and holds every answered change", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-journal-kill-"));
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", writer(dir)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let answered = 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      for (const m of b.toString().matchAll(/answered (\d+)/g)) answered = Number(m[1]);
      // Past a rewrite of the snapshot (a journal outgrows 8 MB after about ten batches), then killed.
      if (answered >= 15) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.once("exit", (code) =>
      answered < 15 ? reject(new Error(`the writer exited ${code}`)) : resolve(),
    );
  });
  await exited;
  const store = await jsonFileStore(dir);
  const { nodes } = await store.load();
  await store.close();
  expect(Object.keys(nodes)).toHaveLength(2000);
  // Every batch answered is stored: a node's version is at least the last answered batch that changed it.
  for (let batch = Math.max(1, answered - 9); batch <= answered; batch++)
    for (let k = 0; k < 200; k++) {
      const id = `n-${(batch * 200 + k) % 2000}`;
      expect(nodes[id]?.configVersion).toBeGreaterThanOrEqual(batch);
    }
}, 120_000);
