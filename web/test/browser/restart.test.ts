/**
 * A node page open while `twinfleet twins --http` is killed and started again on the same port: the
 * page says it is not live while the service is gone, its event stream comes back, and the node page
 * reads its node again. The new service counts
 * versions from 0, so a node page that waited for a version above the one it showed kept the LED as
 * it was before the restart, saying "live", until the new versions passed the old.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../../../node/test/cli-command.js";
import { type BrokerProcess, type Browser, openBrowser, ROOT, startBrokerProcess } from "./harness.js";

const TOKEN = "restart-test-token-0123456789";
const TARGET = "n-0003";
let broker: BrokerProcess;
let browser: Browser;
const children: ChildProcess[] = [];

/** `twinfleet ...args` as a process; resolves once `ready` matches its stderr (with the match). */
function start(args: readonly string[], ready: RegExp): Promise<{ child: ChildProcess; m: RegExpExecArray }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`twinfleet ${args[0]} did not start:\n${err}`)), 60_000);
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, m });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`twinfleet ${args[0]} exited (${code}):\n${err}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await gone;
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  browser = await openBrowser();
});
afterAll(async () => {
  const errors = browser?.errors() ?? [];
  await browser?.close();
  for (const c of children) await kill(c);
  await broker?.stop();
  expect(errors, "uncaught errors in the page").toEqual([]);
});

describe("the node page across a restart of the twins service", () => {
  it("shows the node as the new service has it, not as it was before the restart", async () => {
    const mqtt = /(mqtt:\/\/127\.0\.0\.1:\d+)/.exec(broker.log())?.[1];
    expect(mqtt, broker.log()).toBeDefined();
    const twinsArgs = (port: number) => [
      ...["twins", "--broker", mqtt as string, "--http", `127.0.0.1:${port}`, "--http-token", TOKEN],
    ];
    const web = /web: (http:\/\/127\.0\.0\.1:(\d+))\//;
    const first = await start(twinsArgs(0), web);
    const origin = first.m[1] as string;
    const port = Number(first.m[2]);
    await start(
      ["sim", "--broker", mqtt as string, "--headless", "--nodes", "8", "--rate", "0", "--duration", "3600"],
      /registered 8\/8/,
    );
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${origin}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...init.headers } });
    const set = async (on: boolean) => {
      const r = await api(`/api/nodes/${TARGET}/state`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ on }),
      });
      expect(r.status).toBe(200);
      await expect
        .poll(async () => ((await (await api(`/api/nodes/${TARGET}`)).json()) as { on: boolean }).on)
        .toBe(on);
    };
    // Versions well above those the new service starts from.
    for (let i = 0; i < 6; i++) await set(i % 2 === 0);
    await set(true);

    const page = await browser.page();
    await page.goto(`${origin}/#/node/${TARGET}&token=${TOKEN}`);
    await page.locator('#node-led[data-on="true"]').waitFor();
    await page.locator("#live.open").waitFor();

    await kill(first.child);
    await page.locator("#live:not(.open)").waitFor({ timeout: 10_000 });
    // While the service is gone the page says it is not live, since when, and dims what it shows:
    // it used to show the node and the header's figures as they were, under a small "reconnecting…".
    await page.locator("#stale:not([hidden])").waitFor({ timeout: 10_000 });
    expect(await page.locator("#stale").textContent()).toMatch(
      /^Not live since .+ \(\d+ s\): the server is not answering \(.+\)\. The fleet is shown as it was then/,
    );
    expect(await page.evaluate(`document.body.classList.contains("stale")`)).toBe(true);
    await start(twinsArgs(port), web);
    await page.locator("#live.open").waitFor({ timeout: 20_000 });
    await page.locator("#stale[hidden]").waitFor({ state: "attached", timeout: 5000 });
    expect(await page.evaluate(`document.body.classList.contains("stale")`)).toBe(false);
    await expect.poll(async () => (await api(`/api/nodes/${TARGET}`)).status).toBe(200);
    await set(false);
    await page
      .locator('#node-led[data-on="false"]')
      .waitFor({ timeout: 5000 })
      .catch(async (e) => {
        const shown = await page.locator("#node-version").textContent();
        const now = await (await api(`/api/nodes/${TARGET}`)).json();
        throw new Error(`${e}\nthe node page shows ${shown}; the service: ${JSON.stringify(now)}`);
      });
    await page.close();
  });
});
