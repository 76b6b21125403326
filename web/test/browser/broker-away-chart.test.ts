/**
 * The convergence chart of a standalone `twinfleet twins --http` while its broker is away (killed
 * with kill -9, then started again on the same port): the page must draw the same `broker away` band
 * the console draws (from the fleet view's outages, view/live-faults.ts), not the share from before
 * the outage on through it as if measured, and the share says the broker is away. It used to: the
 * line ran flat at 100 % and "now" stood at the last change, and the header read `in sync 100.0 %` in
 * green beside `faults: broker connection lost`. Checked in the page that watched it
 * and in one opened during the outage (from /api/convergence).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliArgs } from "../../../node/test/cli-command.js";
import { type Browser, openBrowser, ROOT, startTwinsProcess, type TwinsProcess } from "./harness.js";

const TOKEN = "away-chart-token-0123456789abcdef";
/** The chart's right edge in its viewBox (web/public/charts.js: W - PAD.r). */
const RIGHT = 312;
let twins: TwinsProcess;
let browser: Browser;
const children: ChildProcess[] = [];
const data = mkdtempSync(join(tmpdir(), "tf-away-chart-"));

/** `twinfleet ...args` as a process; resolves once `ready` matches its output (with the match). */
function start(args: readonly string[], ready: RegExp): Promise<{ child: ChildProcess; m: RegExpExecArray }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`twinfleet ${args[0]} did not start:\n${log}`)), 60_000);
    const read = (d: Buffer) => {
      log += d.toString();
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, m });
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`twinfleet ${args[0]} exited (${code}):\n${log}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await gone;
}

/** `twinfleet broker` on loopback, on `port` (0: any); resolves with it and its MQTT port. */
async function startBroker(port: number): Promise<{ child: ChildProcess; port: number }> {
  const { child, m } = await start(
    ["broker", "--host", "127.0.0.1", "--port", String(port)],
    /listening on \S+ \(mqtt:\/\/127\.0\.0\.1:(\d+)\)/,
  );
  return { child, port: Number(m[1]) };
}

beforeAll(async () => {
  browser = await openBrowser();
});
afterAll(async () => {
  const errors = browser?.errors() ?? [];
  await browser?.close();
  for (const c of children) await kill(c);
  await twins?.stop();
  rmSync(data, { recursive: true, force: true });
  expect(errors, "uncaught errors in the page").toEqual([]);
});

interface Chart {
  label: string;
  /** The text over the plot naming why no share is drawn now, if any. */
  text: string | null;
  /** The `broker away` bands, left and right edges. */
  away: { left: number; right: number }[];
  /** The x of every point of the lines and dots drawn. */
  xs: number[];
  /** The time axis's left end, e.g. `−41 s`. */
  span: string;
}

/** What the convergence card's chart draws. */
async function chart(page: Page): Promise<Chart> {
  return (await page.evaluate(`(() => {
    const svg = document.querySelector('[aria-labelledby="conv-h"] svg.chart');
    return {
      label: svg.getAttribute("aria-label"),
      text: svg.querySelector(".unjudged-label")?.textContent ?? null,
      away: [...svg.querySelectorAll("rect.away")].map((r) => ({
        left: Number(r.getAttribute("x")),
        right: Number(r.getAttribute("x")) + Number(r.getAttribute("width")),
      })),
      xs: [
        ...[...svg.querySelectorAll("polyline.line")].flatMap((l) =>
          l.getAttribute("points").split(" ").map((p) => Number(p.split(",")[0])),
        ),
        ...[...svg.querySelectorAll("circle.dot")].map((c) => Number(c.getAttribute("cx"))),
      ],
      span: [...svg.querySelectorAll("text.axis")].find((t) => t.textContent.startsWith("−"))?.textContent ?? "",
    };
  })()`)) as Chart;
}

async function fleetPage(): Promise<Page> {
  const page = await browser.page();
  await page.goto(`${twins.httpOrigin}/#token=${TOKEN}`);
  await page.locator("#live.open").waitFor();
  return page;
}

it("draws the broker away band while the broker is gone, and the line again once it is back", async () => {
  let broker = await startBroker(0);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  twins = await startTwinsProcess(url, data, ["--http-token", TOKEN]);
  const sim = ["sim", "--broker", url, "--headless", "--nodes", "4", "--topology", "pairs"];
  await start([...sim, "--rate", "0", "--duration", "3600", "--progress-every", "1"], /registered 4\/4/);
  const page = await fleetPage();
  await page.locator("#stat-sync dd").filter({ hasText: "100.0 %" }).waitFor({ timeout: 30_000 });
  await expect.poll(async () => (await chart(page)).xs.length, { timeout: 10_000 }).toBeGreaterThan(0);
  const before = await chart(page);
  expect(before.away).toEqual([]);
  expect(before.text).toBeNull();
  // The share holds on to now: the line reaches the right edge.
  expect(Math.max(...before.xs)).toBeCloseTo(RIGHT, 0);

  await kill(broker.child);
  await page
    .locator("#stat-faults dd")
    .filter({ hasText: "broker connection lost" })
    .waitFor({ timeout: 30_000 });
  await expect.poll(async () => (await chart(page)).text, { timeout: 10_000 }).toBe("broker away");
  // The share is the one from before: the header and the card say the broker is away, not 100 %.
  await page.locator("#stat-sync dd").filter({ hasText: "broker away" }).waitFor();
  await expect(page.locator("#stat-online dd").textContent()).resolves.toBe("4 as last heard");
  await expect(page.locator('[aria-labelledby="conv-h"] .sub').first().textContent()).resolves.toMatch(
    /^broker away, nothing heard: when last heard, 4 of 4 followers held/,
  );
  const first = await chart(page);
  // The chart's time goes on while nothing is heard (a frame a second): the band widens to now.
  const width = (c: Chart) => (c.away[0] === undefined ? 0 : c.away[0].right - c.away[0].left);
  await expect
    .poll(async () => width(await chart(page)), { timeout: 10_000 })
    .toBeGreaterThan(width(first) + 10);
  const away = await chart(page);
  expect(away.label).toBe("Fleet convergence over time, now broker away (last heard 100.0 %)");
  expect(away.span).not.toBe(first.span);
  expect(away.away).toHaveLength(1);
  const band = away.away[0] as { left: number; right: number };
  // Under way: the band runs to now, and no line is drawn in it (the share before ends where it starts).
  expect(band.right).toBeCloseTo(RIGHT, 0);
  expect(Math.max(...away.xs)).toBeLessThanOrEqual(band.left + 0.05);

  // A page opened during the outage draws it from the service's answer.
  const opened = await fleetPage();
  await expect.poll(async () => (await chart(opened)).text, { timeout: 10_000 }).toBe("broker away");
  expect((await chart(opened)).away).toHaveLength(1);

  broker = await startBroker(broker.port);
  await expect.poll(async () => (await chart(page)).text, { timeout: 60_000 }).toBeNull();
  await page.locator("#stat-sync dd").filter({ hasText: "100.0 %" }).waitFor({ timeout: 60_000 });
  await page.locator("#stat-online dd").filter({ hasText: /^4$/ }).waitFor({ timeout: 60_000 });
  const back = await chart(page);
  expect(back.label).toMatch(/^Fleet convergence over time, now \d+\.\d %$/);
  expect(back.away).toHaveLength(1);
  const ended = back.away[0] as { left: number; right: number };
  // The band ends where the broker was back, and the share is drawn again after it (from the share
  // before, held on until the next point, or the nodes offline until heard on the restarted broker).
  expect(ended.right).toBeLessThan(RIGHT - 1);
  expect(back.xs.some((x) => x >= ended.right - 0.05)).toBe(true);
});
