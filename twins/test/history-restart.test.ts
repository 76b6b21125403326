/**
 * The convergence history across a restart of the twins service on its data directory, over a real
 * broker: a service stopped and started again on the same `jsonFileStore` starts with the history
 * from before, the time it was not running marked, where it started empty (twins/history-keeper.ts).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { HISTORY_FILE } from "../history-file.js";
import { Fixtures, until } from "./helpers.js";

const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it("starts again with the history from before, the time it was stopped marked", async () => {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
  const dir = await mkdtemp(join(tmpdir(), "twins-history-"));
  dirs.push(dir);
  const lines: string[] = [];
  const t = await fx.twinsOn(dir, lines);
  await fx.node("B");
  await fx.node("A");
  await until(() => t.get("A")?.presence === "online" && t.get("B")?.presence === "online", "online");
  await t.pair("A", "B");
  await until(() => t.history().some((p) => p.known === 1 && p.online === 1), "A judged, online");
  const before = t.history();
  await t.close();
  expect(await readFile(join(dir, HISTORY_FILE), "utf8")).toMatch(/\{"stop":[\d.]+\}\n$/);

  const again = await fx.twinsOn(dir, lines);
  const h = again.history();
  // What it had, then the marker: the last point's share, not running from the stop to the start.
  expect(h.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
  const marker = h.find((p) => p.stoppedUntil !== undefined);
  expect(marker).toMatchObject({ known: 1, online: 1, fraction: before.at(-1)?.fraction });
  expect(marker?.t).toBeGreaterThanOrEqual(before.at(-1)?.t ?? Number.POSITIVE_INFINITY);
  expect(marker?.stoppedUntil).toBeGreaterThan(marker?.t ?? 0);
  expect(
    lines.some(
      (l) => l.includes("the convergence history is restored from") && l.includes("stopped cleanly"),
    ),
  ).toBe(true);
});
