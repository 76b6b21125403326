/**
 * `twinfleet monitor --broker … --via URL` in tmux: `m` switches the convergence chart to the last
 * 48 h of the twins service at URL, read from its web API with its token, under the line that
 * answers the morning question; a service that serves no minutes (an older one: 404) is said so in
 * the chart's place.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import type { MinutePoint } from "../../twins/index.js";
import { startTestBroker } from "../../twins/test/helpers.js";
import { TmuxSession } from "./tmux.js";

const TOKEN = "minutes-token-0123456789";
const at = (h: number, m: number) => Date.UTC(2026, 11, 7, h, m);
const NIGHT: MinutePoint[] = [
  { t: at(4, 54), fraction: 0.83, inSync: 83, known: 100, online: 100 },
  { t: at(4, 55), fraction: 0.27, inSync: 27, known: 100, online: 100, away: true },
  { t: at(4, 56), fraction: 10 / 73, inSync: 10, known: 73, online: 0, away: true },
  { t: at(4, 57), fraction: 0.64, inSync: 64, known: 100, online: 100 },
  { t: at(5, 3), online: 0, down: true },
  { t: at(5, 4), fraction: 1, inSync: 100, known: 100, online: 100 },
];

const terms: TmuxSession[] = [];
const open: { close(): Promise<unknown> }[] = [];
const dir = mkdtempSync(join(tmpdir(), "tf-minutes-tmux-"));
afterAll(async () => {
  for (const t of terms) t.kill();
  for (const o of open.splice(0).reverse()) await o.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A twins service's web API as far as the minutes go: `status` 200 serves NIGHT to the token. */
async function service(status: 200 | 404): Promise<string> {
  const server: Server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end(JSON.stringify({ detail: "a bearer token is needed" }));
    } else if (status === 404 || req.url !== "/api/convergence/minutes") {
      res.writeHead(404).end(JSON.stringify({ detail: `no route GET ${req.url}` }));
    } else {
      res.end(JSON.stringify({ minuteMs: 60_000, kept: 2880, t: at(5, 5), minutes: NIGHT }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  open.push({ close: () => new Promise((r) => server.close(r)) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function monitor(broker: string, via: string): Promise<TmuxSession> {
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const term = new TmuxSession();
  terms.push(term);
  term.start(
    `${cliCommand()} monitor --broker ${broker} --via ${via} --via-token-file ${tokenFile}; echo "EXIT=$?"; sleep 120`,
    120,
    30,
  );
  await term.waitFor("the console", (s) => (s.includes("m:48h") ? true : undefined), 60_000);
  term.keys("m");
  return term;
}

it("draws the service's last 48 h on m, with the morning's answer and the bands, and back on m", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const term = await monitor(broker.url, await service(200));
  const screen = await term.waitFor(
    "the minutes' summary",
    (s) => (s.includes("lowest 13.7 % (10 of 73) at 04:56 UTC;") ? s : undefined),
    60_000,
  );
  expect(screen).toContain("convergence, last 48 h");
  expect(screen).toContain("broker away in 2 min;");
  // 35 columns of chart: the bands' legend is the short one; the words above name them.
  expect(screen).toContain("twins service not");
  expect(screen).toContain("░ not measured");
  term.keys("m");
  await term.waitFor("the last minutes again", (s) => (s.includes("last 48 h") ? undefined : true), 30_000);
  term.keys("q");
  await term.waitFor("the monitor closed", (s) => (s.includes("EXIT=0") ? true : undefined), 60_000);
}, 240_000);

it("says in the chart's place that a service answering 404 serves no minutes", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const via = await service(404);
  const term = await monitor(broker.url, via);
  const screen = await term.waitFor(
    "the 404 told",
    (s) => (s.includes("serves no minutes") ? s : undefined),
    60_000,
  );
  expect(screen).toContain("convergence, last 48 h");
  expect(screen.replace(/[│\s]+/g, " ")).toContain("as a twinfleet from before the 48 h history does");
  expect(screen).toContain("the twins service at http://127.0.0.1:");
  term.keys("q");
  await term.waitFor("the monitor closed", (s) => (s.includes("EXIT=0") ? true : undefined), 60_000);
}, 240_000);
