/**
 * `twinfleet twins --prefix P --data DIR` on the directory of another fleet's service: it stops with
 * exit 1, naming both prefixes and what to do, and leaves the directory as it found it (it loaded that
 * fleet's desire as its own and wrote it back, pairings marked pending). The store is read before the
 * broker is reached: no broker is needed.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { main } from "../main.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("twins on another fleet's --data exits 1, naming both prefixes, the files left as they are", async () => {
  dir = await mkdtemp(join(tmpdir(), "twins-other-fleet-"));
  const text = `${JSON.stringify({ format: 1, journal: 3, fleet: "tf", nodes: { "n-0001": { sources: ["n-0002"], configVersion: 2 } } }, null, 1)}\n`;
  const history = `${JSON.stringify({ format: 2, history: "twinfleet convergence", fleet: "tf" })}\n`;
  await writeFile(join(dir, "twins.json"), text);
  await writeFile(join(dir, "convergence-history.jsonl"), history);
  let err = "";
  const code = await main(["twins", "--broker", "mqtt://127.0.0.1:1", "--prefix", "lab", "--data", dir], {
    stdout: () => {},
    stderr: (s) => {
      err += s;
    },
  });
  expect(code).toBe(1);
  expect(err).toContain(
    `twins store ${join(dir, "twins.json")} holds the desired state of the fleet under prefix tf, and this service watches prefix lab: start it with --prefix tf to run that fleet, or give the fleet under prefix lab a data directory of its own`,
  );
  expect((await readdir(dir)).sort()).toEqual(["convergence-history.jsonl", "twins.json"]);
  expect(await readFile(join(dir, "twins.json"), "utf8")).toBe(text);
  expect(await readFile(join(dir, "convergence-history.jsonl"), "utf8")).toBe(history);
});
