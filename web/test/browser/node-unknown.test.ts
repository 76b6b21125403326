/**
 * A node page opened before the fleet knows the node (a bookmark of a node that has not registered
 * yet, a sim's page opened while its nodes start) shows the node once it registers. It said "No node
 * n-0000" until it was opened again: its only read had answered 404, and it read the node again only
 * when it had a version to compare. A star's source, which no pairing names before it registers,
 * was not known yet when a page opened just after the sim started read it, now and then: its
 * Followers list never came (docs/web.md "The node page"). Also: the page says what a standalone
 * twins service's clock counts from, its own start, not the fleet's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliArgs } from "../../../node/test/cli-command.js";
import {
  type BrokerProcess,
  type Browser,
  openBrowser,
  ROOT,
  startBrokerProcess,
  startTwinsProcess,
  type TwinsProcess,
} from "./harness.js";

const TOKEN = "unknown-node-token-0123456789abcdef";
let broker: BrokerProcess;
let twins: TwinsProcess;
let browser: Browser;
let sim: ChildProcess | undefined;
const data = mkdtempSync(join(tmpdir(), "tf-unknown-node-"));

beforeAll(async () => {
  broker = await startBrokerProcess();
  twins = await startTwinsProcess(broker.brokerUrl, data, ["--http-token", TOKEN]);
  browser = await openBrowser();
});
afterAll(async () => {
  const errors = browser?.errors() ?? [];
  await browser?.close();
  if (sim && sim.exitCode === null) sim.kill("SIGKILL");
  await twins?.stop();
  await broker?.stop();
  rmSync(data, { recursive: true, force: true });
  expect(errors, "uncaught errors in the page").toEqual([]);
});

/** `twinfleet sim --broker` of a star of 3 (n-0000 followed by n-0001, n-0002); resolves once all registered. */
function startFleet(): Promise<ChildProcess> {
  const args = ["sim", "--broker", broker.brokerUrl, "--headless", "--nodes", "3", "--topology", "star"];
  const child = spawn(
    process.execPath,
    [
      ...cliArgs(),
      ...args,
      "--group-size",
      "3",
      "--rate",
      "0",
      "--duration",
      "3600",
      "--progress-every",
      "1",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  return new Promise((resolve, reject) => {
    const read = (d: Buffer) => {
      log += d.toString();
      if (/registered 3\/3/.test(log)) resolve(child);
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => reject(new Error(`sim exited (${code}):\n${log}`)));
  });
}

it("shows a node that registers after its page was opened", async () => {
  const page = await browser.page();
  await page.goto(`${twins.httpOrigin}/#/node/n-0000&token=${TOKEN}`);
  await page.locator("#live.open").waitFor();
  // The service knows no node yet: the page says so.
  await page.getByRole("alert").filter({ hasText: "No node n-0000" }).waitFor();

  sim = await startFleet();
  // The page reads the node again once the event stream brings it.
  await page.locator("h1.mono", { hasText: "n-0000" }).waitFor({ timeout: 30_000 });
  const followers = page.locator('ul[aria-label="Nodes following n-0000"] li');
  await expect.poll(() => followers.count(), { timeout: 30_000 }).toBe(2);
  expect(await page.getByRole("alert").count()).toBe(0);

  // The service's clock starts with the service, not with the fleet (which may have run for days).
  const registered = page.locator("dt", { hasText: "Registered" }).locator("xpath=following-sibling::dd[1]");
  await expect.poll(() => registered.textContent()).toMatch(/ after this service started$/);
  await page.close();
});
