/**
 * The web page in a real browser on a real 200-node `twinfleet sim --http`: every node is listed
 * (through the virtualised list, which never holds all 200 rows) and reachable by keyboard, a set
 * from the node page shows on the fleet page within 1 s and in `twinfleet nodes`, a pairing made on
 * the node page carries a press, a stale If-Match is refused with 412 and the page says so, a write
 * the server does not answer is said and one asked for meanwhile refused with a word, a write
 * without the token gets 401, a page the server has no event stream left for says so and goes live
 * once one is free, and the sim's loss control and power outage work through their confirmation.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { runCli, startSim } from "./harness.js";
import { simAndBrowser } from "./sim-and-browser.js";

const NODES = 200;
const fx = simAndBrowser(NODES, ["--workers", "1"]);

/** A fleet page on the sim, opened with the printed address, once every node is listed. */
async function fleetPage(): Promise<Page> {
  const page = await fx.browser.page();
  await page.goto(fx.sim.pageUrl);
  await page
    .locator("#shown")
    .filter({ hasText: `${NODES} of ${NODES} nodes` })
    .waitFor();
  return page;
}

/** The ids the virtualised list shows, scrolled from top to bottom; also the most rows ever in the DOM. */
async function scrollThrough(page: Page): Promise<{ ids: Set<string>; maxRows: number }> {
  // In the page (a string: this project's types have no DOM).
  const r = (await page.evaluate(`(async () => {
    const list = document.getElementById("node-list");
    const ids = new Set();
    let maxRows = 0;
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    for (let top = 0; ; top += list.clientHeight / 2) {
      list.scrollTop = top;
      await frame();
      await frame();
      maxRows = Math.max(maxRows, list.querySelectorAll(".row").length);
      for (const r of list.querySelectorAll(".row:not([hidden])")) if (r.dataset.id) ids.add(r.dataset.id);
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
    }
    return { ids: [...ids], maxRows };
  })()`)) as { ids: string[]; maxRows: number };
  return { ids: new Set(r.ids), maxRows: r.maxRows };
}

const id = (i: number) => `n-${String(i).padStart(4, "0")}`;

describe("the web page on a 200-node sim", () => {
  it("takes the token out of the address and lists every node in a virtualised list", async () => {
    const page = await fleetPage();
    expect(page.url()).not.toContain("token");
    expect(await page.evaluate('sessionStorage.getItem("twinfleet.token")')).toBe(fx.sim.token);
    await expect(page.locator("#stat-nodes dd").textContent()).resolves.toBe(String(NODES));
    const { ids, maxRows } = await scrollThrough(page);
    expect([...ids].sort()).toEqual(Array.from({ length: NODES }, (_, i) => id(i)));
    expect(maxRows).toBeLessThan(NODES / 2);
    // The search narrows the list to the ids containing the text.
    await page.fill("#q", "n-001");
    await page
      .locator("#shown")
      .filter({ hasText: `10 of ${NODES} nodes` })
      .waitFor();
    await page.close();
  });

  it("never puts the token in a URL it requests, the event stream's included (a proxy logs URLs)", async () => {
    const page = await fx.browser.page();
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(fx.sim.pageUrl);
    await page.locator("#live.open").waitFor();
    await page
      .locator("#shown")
      .filter({ hasText: `${NODES} of ${NODES} nodes` })
      .waitFor();
    expect(urls.some((u) => new URL(u).pathname === "/api/events")).toBe(true);
    // The address it was opened with carries the token in its fragment, which is never sent.
    expect(urls.filter((u) => u.split("#")[0]?.includes(fx.sim.token))).toEqual([]);
    await page.close();
  });

  it("moves through the whole list with the keyboard and opens a node with Enter", async () => {
    const page = await fleetPage();
    const focused = () => page.evaluate('document.activeElement?.closest(".row")?.dataset.id ?? null');
    await page.locator("#node-list .row-link").first().focus();
    await expect(focused()).resolves.toBe(id(0));
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
    await expect(focused()).resolves.toBe(id(3));
    await page.keyboard.press("End");
    await expect(focused()).resolves.toBe(id(NODES - 1));
    await page.keyboard.press("PageUp");
    expect(Number(((await focused()) as string).slice(2))).toBeLessThan(NODES - 5);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.locator("h1", { hasText: id(NODES - 1) }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/node/${id(NODES - 1)}`);
    await page.close();
  });

  it("sets a node on from its node page: the fleet page shows it within 1 s, and twinfleet nodes agrees", async () => {
    const target = id(42);
    const fleet = await fleetPage();
    await fleet.fill("#q", target);
    const row = fleet.locator(`.row[data-id="${target}"]`);
    await expect(row.getAttribute("data-on")).resolves.toBe("false");

    const node = await fx.browser.page();
    await node.goto(fx.sim.at(`/node/${target}`));
    await node.locator("#node-version").waitFor();
    // The set goes with the version the node page shows: on a busy host the twin may still be
    // settling (registration, pairing), so wait until the node page has caught up with the fleet's.
    await expect
      .poll(
        async () =>
          (await node.locator("#node-version").textContent()) ===
          (await fleet.locator(`.row[data-id="${target}"] .c-ver`).textContent()),
        { timeout: 10_000 },
      )
      .toBe(true);
    await node.click("#set-on");
    const clicked = Date.now();
    await fleet
      .locator(`.row[data-id="${target}"][data-on="true"]`)
      .waitFor({ timeout: 1000 })
      .catch(async (e) => {
        throw new Error(
          `${e}\nfleet page: ${await fleet.evaluate(`JSON.stringify([window.twinfleetStore.nodes.get("${target}"), document.visibilityState, document.querySelector('.row[data-id="${target}"]')?.outerHTML])`)}\nnode page: ${await node.evaluate('document.querySelector(".notice")?.textContent')}`,
        );
      });
    expect(Date.now() - clicked).toBeLessThan(1000);
    await node.locator('#node-led[data-on="true"]').waitFor({ timeout: 5000 });

    const listed = JSON.parse(await runCli(["nodes", "--broker", fx.sim.brokerUrl, "--wait", "1500"])) as {
      id: string;
      reported?: { on: boolean };
    }[];
    expect(listed.find((t) => t.id === target)?.reported?.on).toBe(true);
    await fleet.close();
    await node.close();
  });

  it("pairs two nodes from the node page, and a press on the source reaches the follower", async () => {
    const follower = id(100);
    const source = id(20);
    const node = await fx.browser.page();
    await node.goto(fx.sim.at(`/node/${follower}`));
    await node.locator("#follow-id").waitFor();
    // A bad id is refused on the page, before anything is sent.
    await node.fill("#follow-id", follower);
    await node.click("#follow-add");
    await node.locator(".notice.error").filter({ hasText: "cannot follow itself" }).waitFor();
    await node.fill("#follow-id", source);
    await node.click("#follow-add");
    await node.locator(`ul.pairs a[href="#/node/${source}"]`).first().waitFor();
    await node.locator(".sub", { hasText: "confirmed by the node" }).waitFor({ timeout: 10_000 });

    // One fleet page on each node (the list shows the rows in view only).
    const fleetF = await fleetPage();
    await fleetF.fill("#q", follower);
    const fleetS = await fleetPage();
    await fleetS.fill("#q", source);
    const before = await fleetF.locator(`.row[data-id="${follower}"]`).getAttribute("data-on");
    await expect(fleetS.locator(`.row[data-id="${source}"]`).getAttribute("data-on")).resolves.toBe(before);
    const pressed = await fx.sim.api(`api/nodes/${source}/press`, { method: "POST" });
    expect(pressed.status).toBe(202);
    const want = before === "true" ? "false" : "true";
    await fleetS.locator(`.row[data-id="${source}"][data-on="${want}"]`).waitFor({ timeout: 5000 });
    await fleetF.locator(`.row[data-id="${follower}"][data-on="${want}"]`).waitFor({ timeout: 5000 });
    await node.locator(`#node-led[data-on="${want}"]`).waitFor({ timeout: 5000 });
    await fleetF.close();
    await fleetS.close();
    await node.close();
  });

  it("refuses a stale If-Match with 412, and the node page says another change came first", async () => {
    const target = id(60);
    const node = await fx.browser.page();
    await node.goto(fx.sim.at(`/node/${target}`));
    await node.locator("#node-version").waitFor();
    // The page reads its node again once its stream's first node list has come (a reset): wait for
    // that, and for the version the server has now, so no read of the page's own is under way.
    await node.waitForFunction("window.twinfleetStore.resets > 0");
    // The ETag is `"<version>-<server start>"` (web/etag.ts).
    const tag = (await fx.sim.api(`api/nodes/${target}`)).headers.get("etag")!;
    const current = tag.replaceAll('"', "").split("-")[0];
    await node
      .locator("#node-version")
      .filter({ hasText: new RegExp(`^v${current}$`) })
      .waitFor();
    const shown = Number((await node.locator("#node-version").textContent())!.slice(1));
    // The page stops hearing of changes, so it keeps showing (and sending) the version it has …
    await node.evaluate("window.twinfleetStore.apply = () => {}");
    // … while someone else changes the node.
    const other = await fx.sim.api(`api/nodes/${target}/state`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "If-Match": tag },
      body: JSON.stringify({ on: true }),
    });
    expect(other.status).toBe(200);
    expect(Number(other.headers.get("etag")!.replaceAll('"', "").split("-")[0])).toBeGreaterThan(shown);
    // The stale version, sent from the page's context as the page sends it, is refused.
    const stale = (await node.evaluate(`(async () => {
      const r = await fetch("api/nodes/${target}/state", {
        method: "PUT",
        headers: {
          Authorization: "Bearer " + sessionStorage.getItem("twinfleet.token"),
          "Content-Type": "application/json",
          "If-Match": '${tag}',
        },
        body: JSON.stringify({ on: false }),
      });
      return { status: r.status, type: r.headers.get("content-type"), body: await r.json() };
    })()`)) as { status: number; type: string | null; body: { status: number } };
    expect(stale.status).toBe(412);
    expect(stale.type).toContain("application/problem+json");
    expect(stale.body.status).toBe(412);
    // The page's own button sends the version on screen: refused, explained, and the node reloaded.
    await expect(node.locator("#node-version").textContent()).resolves.toBe(`v${shown}`);
    await node.click("#set-off");
    await node
      .locator(".notice.error")
      .filter({ hasText: `Another change reached ${target} first` })
      .waitFor();
    await expect
      .poll(async () => Number((await node.locator("#node-version").textContent())!.slice(1)))
      .toBeGreaterThan(shown);
    await node.close();
  });

  it("says a write the server has not answered, and refuses another meanwhile with a word", async () => {
    const target = id(70);
    const node = await fx.browser.page();
    // The set is held on its way (a server stopped with kill -STOP, overloaded, a network dropping
    // packets): the second click used to be dropped without a word, the first waited in silence.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await node.route(`**/api/nodes/${target}/state`, async (route) => {
      await held;
      await route.continue();
    });
    await node.goto(fx.sim.at(`/node/${target}`));
    await node.locator("#node-version").waitFor();
    await node.click("#set-on");
    await node.click("#set-off");
    const waiting = `The server has not answered ${target} LED on yet`;
    await node
      .locator(".notice.error")
      .filter({ hasText: `Not sent: ${target} LED off. ${waiting}` })
      .waitFor();
    const slow = `No answer from the server for 5 s to ${target} LED on`;
    await node.locator(".notice.warn").filter({ hasText: slow }).waitFor({ timeout: 20_000 });
    release();
    const answered = new RegExp(`^(Sent: ${target} LED on|Another change reached ${target} first)`);
    await node.locator(".notice").filter({ hasText: answered }).waitFor();
    await node.close();
  });

  it("refuses a write without the token with 401 and WWW-Authenticate: Bearer", async () => {
    const r = await fx.sim.api(`api/nodes/${id(7)}/state`, {
      method: "PUT",
      auth: false,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ on: true }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    const bad = await fx.sim.api(`api/nodes/${id(7)}/state`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Authorization: "Bearer wrong" },
      body: JSON.stringify({ on: true }),
    });
    expect(bad.status).toBe(401);
  });

  it("says the server is busy when it refuses the event stream, and goes live once one is free", async () => {
    // A fleet of its own: no other page may free a stream while this test holds them all.
    const own = await startSim(20, ["--workers", "1"]);
    // Each stream is held with its Response: fetch cancels an unread body once its Response is
    // garbage collected, which would free a stream behind the test's back.
    const held: { ctl: AbortController; res: Response }[] = [];
    try {
      let refused: Response | undefined;
      while (refused === undefined && held.length < 200) {
        const ctl = new AbortController();
        const res = await own.api("api/events", {
          signal: ctl.signal,
          headers: { Accept: "text/event-stream" },
        });
        if (res.ok) held.push({ ctl, res });
        else refused = res;
      }
      expect(refused?.status).toBe(503);
      // A collection now, as may come at any time: the streams stay held (without their Responses
      // kept, the page would find one free and never say busy).
      const gc = (globalThis as { gc?: () => void }).gc;
      expect(gc, "the web suite runs with --expose-gc").toBeTypeOf("function");
      gc?.();
      const page = await fx.browser.page();
      await page.goto(own.pageUrl);
      const live = page.locator("#live");
      await live.filter({ hasText: "server busy" }).waitFor();
      await expect(live.getAttribute("title")).resolves.toMatch(
        /event streams are open, the most this server keeps/,
      );
      // One stream freed: the page opens its own after the server's Retry-After, and lists the fleet.
      held.pop()?.ctl.abort();
      await live.filter({ hasText: /^live$/ }).waitFor({ timeout: 20_000 });
      await page.locator("#shown").filter({ hasText: "20 of 20 nodes" }).waitFor();
      await page.close();
    } finally {
      for (const h of held) h.ctl.abort();
      await own.stop();
    }
  });

  it("changes the fleet's packet loss from the controls, only once confirmed", async () => {
    const page = await fleetPage();
    const loss = page.locator(".stat", { hasText: "loss" }).locator("dd");
    await expect(loss.textContent()).resolves.toBe("0 %");
    await page.fill("#loss", "7");
    await page.click("form.inline button[type=submit] >> text=Apply");
    await page.locator("dialog.confirm").waitFor();
    await page.keyboard.press("Escape");
    await page.locator("dialog.confirm").waitFor({ state: "detached" });
    const fleet = async () => ((await (await fx.sim.api("api/fleet")).json()) as { lossPct: number }).lossPct;
    await expect(fleet()).resolves.toBe(0);
    await page.click("form.inline button[type=submit] >> text=Apply");
    await page.click("dialog.confirm button.danger");
    await loss.filter({ hasText: "7 %" }).waitFor();
    await expect(fleet()).resolves.toBe(7);
    // A value out of range is refused on the page, naming the range.
    await page.fill("#loss", "140");
    await page.click("form.inline button[type=submit] >> text=Apply");
    await page.locator(".notice.error").filter({ hasText: "from 0 to 100" }).waitFor();
    await page.close();
    const back = await fx.sim.api("api/fleet/loss", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pct: 0 }),
    });
    expect(back.status).toBe(200);
  });

  it("starts a power outage from the controls, shows it under way, and the fleet comes back", async () => {
    const page = await fleetPage();
    const faults = page.locator("#stat-faults dd");
    await expect(faults.textContent()).resolves.toBe("none");
    await page.fill("#f-power-outage-offS", "0");
    await page.click("form.fault button >> text=Power outage");
    await page.locator(".notice.error").filter({ hasText: "s off must be from 1 to 3600" }).waitFor();
    await page.fill("#f-power-outage-offS", "2");
    await page.click("form.fault button >> text=Power outage");
    await page.locator("dialog.confirm", { hasText: "for 2 s" }).waitFor();
    // The twins cannot see a node lose power: its socket is left half open. They see it when it
    // boots and connects again, taking over its session: the broker sends the old session's will,
    // then the node registers. That dip in the online count can be shorter than one of the page's
    // frames, so the page's event log is watched instead: a node logged online after the outage's
    // start is one that went offline in it (an "online" line is written only on a change of presence).
    await page.evaluate(`(() => {
      window.outage = { started: false, back: 0 };
      new MutationObserver((records) => {
        for (const r of records)
          for (const li of r.addedNodes) {
            const t = li.textContent ?? "";
            if (/fault: power-outage .*started/.test(t)) window.outage.started = true;
            else if (window.outage.started && / n-\\d{4} online$/.test(t)) window.outage.back++;
          }
      }).observe(document.querySelector("ol.log"), { childList: true });
    })()`);
    await page.click("dialog.confirm button.danger");
    await faults.filter({ hasText: /power-outage/ }).waitFor({ timeout: 5000 });
    await page.waitForFunction("window.outage.back > 0", undefined, { timeout: 30_000 });
    await faults.filter({ hasText: "none" }).waitFor({ timeout: 30_000 });
    await page
      .locator("#stat-online dd")
      .filter({ hasText: String(NODES) })
      .waitFor({ timeout: 30_000 });
    await page.close();
  });
});
