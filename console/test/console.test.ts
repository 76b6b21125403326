/**
 * The console rendered to a virtual 80×24 terminal against a fake fleet: what the screen shows, and
 * what keys make the fleet do.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NO_CAPABILITIES } from "../../view/source.js";
import type { ConsoleHandle } from "../app.js";
import { ALL_CAPS, consoleIn, FakeSource, id, KEYS, settle, virtualTerminal } from "./helpers.js";

const open: ConsoleHandle[] = [];

function start(source: FakeSource, columns = 80, rows = 24) {
  const term = virtualTerminal(columns, rows);
  const { handle, sched } = consoleIn(source, open, term);
  const keys = async (...ks: string[]) => {
    for (const k of ks) {
      term.input.write(k);
      await settle();
    }
    handle.frame();
  };
  const screen = () => handle.text().join("\n");
  return { handle, keys, screen, sched };
}

afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

describe("fleet view", () => {
  it("redraws on its scheduler's timer, at most fps times a second, once the source has changed", () => {
    const source = new FakeSource(50);
    const { handle, sched } = start(source);
    expect(handle.text()[0]).toContain("loss 0%");
    source.loss = 20;
    source.events.emit("changed");
    sched.advance(124); // the default 8 frames a second: every 125 ms
    expect(handle.text()[0]).toContain("loss 0%");
    sched.advance(1);
    expect(handle.text()[0]).toContain("loss 20%");
    handle.close();
    expect(sched.pending).toBe(0);
  });

  it("redraws once a second of the source's clock with nothing changed: the charts' time axis moves", () => {
    const source = new FakeSource(50);
    const { handle, sched } = start(source);
    const drawn = () => handle.text().join("\n");
    const before = drawn();
    sched.advance(1000);
    expect(drawn()).toBe(before); // nothing changed, the source's clock stood still: no frame
    // A quiet fleet: its clock moves 20 s on, nothing else. Before, the charts stood still for good.
    source.clock += 20_000;
    sched.advance(125);
    expect(drawn()).not.toBe(before);
    handle.close();
  });

  it("fits 5,000 nodes into 80×24: counts, a page of cells, the charts and the key hints", () => {
    const { handle, screen } = start(new FakeSource(5000));
    const lines = handle.text();
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBe(80);
    const s = screen();
    expect(lines[0]).toContain("5000 nodes (500 real)");
    expect(lines[0]).toContain("in sync 87.3%");
    expect(lines[0]).toContain("offline 714");
    expect(lines[0]).toContain("loss 0%");
    // First grid row: node 0 (sim, off, unknown sync) under the cursor, 1 on, 3 real off, 6 offline.
    expect(lines[2]?.slice(1, 9)).toBe("oOoRoOxO");
    expect(s).toMatch(/fleet n-0000 pg 1\/8/);
    expect(s).toContain("in sync 87.3% 873/1000");
    expect(s).toContain("p50 212ms  p99 1.48s");
    expect(s).toContain("paper's 1 s");
    expect(lines[23]).toContain("?:help q:quit");
  });

  it("zooms out to the whole fleet in one page, and pages when zoomed in", async () => {
    const { keys, screen } = start(new FakeSource(5000));
    await keys("z");
    expect(screen()).toMatch(/pg 1\/1 8\/cell/);
    await keys("z", KEYS.pagedown);
    expect(screen()).toMatch(/fleet n-0644 pg 2\/8/);
  });

  it("filters to the nodes out of sync", async () => {
    const { keys, screen } = start(new FakeSource(100));
    await keys("f");
    expect(screen()).toMatch(/fleet \[out-of-sync\] n-0004 pg 1\/1/);
  });

  it("keeps the node chosen through the filters: the nearest shown after it meanwhile, itself again after", async () => {
    const { keys, screen } = start(new FakeSource(100));
    await keys(KEYS.right, KEYS.right, KEYS.right, KEYS.right, KEYS.right);
    expect(screen()).toMatch(/fleet n-0005 pg 1\/1/);
    await keys("f");
    expect(screen()).toMatch(/fleet \[out-of-sync\] n-0009 pg/);
    await keys("f");
    expect(screen()).toMatch(/fleet \[offline\] n-0006 pg/);
    await keys("f");
    expect(screen()).toMatch(/fleet \[real\] n-0013 pg/);
    await keys("f");
    expect(screen()).toMatch(/fleet n-0005 pg 1\/1/);
  });

  it("keeps the node chosen through a filter that shows no node", async () => {
    const { keys, screen } = start(new FakeSource(3));
    await keys(KEYS.right, KEYS.right);
    expect(screen()).toMatch(/fleet n-0002 pg/);
    await keys("f");
    expect(screen()).toMatch(/fleet \[out-of-sync\] - pg/);
    await keys("f", "f", "f");
    expect(screen()).toMatch(/fleet n-0002 pg/);
  });

  it("draws at most once per frame however often the fleet changes", () => {
    const source = new FakeSource(1000);
    const { handle } = start(source);
    const before = source.nodeCalls;
    for (let i = 0; i < 10_000; i++) source.events.emit("changed");
    expect(source.nodeCalls).toBe(before);
    handle.frame();
    handle.frame();
    expect(source.nodeCalls).toBe(before + 1);
  });
});

describe("node detail and help", () => {
  it("shows whom the selected node follows, who follows it, CPU, RAM, link and last messages", async () => {
    const { keys, screen } = start(new FakeSource(50));
    await keys(KEYS.right, KEYS.right, KEYS.enter);
    const s = screen();
    expect(s).toContain("n-0002 sim");
    expect(s).toContain("follows   n-0001 n-0002");
    expect(s).toContain("followers n-0009");
    expect(s).toContain("CPU 3.3%  RAM 1234 B");
    expect(s).toContain("retx 17 t/o 2 reconn 1");
    expect(s).toContain("tx R1 1 42 n-0001");
    await keys("d");
    expect(screen()).not.toContain("retx 17");
  });

  it("lists every key in help, marks what the fleet cannot do, scrolls to the last, and closes on another key", async () => {
    const { keys, screen } = start(new FakeSource(10, { ...NO_CAPABILITIES, press: true }));
    await keys("?");
    const s = screen();
    for (const k of ["arrows hjkl", "PgUp PgDn", "Enter d", "m ", "p Space", "1 0", "q Ctrl-C", "x "]) {
      expect(s).toContain(k);
    }
    expect(s).toMatch(/press the node's button\s/);
    // 80x24 holds the keys down to the cable's; the help scrolls to the rest, which wrap in full.
    expect(s).toContain("keys (arrows, PgUp PgDn: more)");
    expect(s).toContain("(asks its id) (not for this    ");
    await keys("j", "j", "j", "j", "j", "j");
    const end = screen();
    expect(end).toContain("raise / lower the packet loss (not for this fleet)");
    expect(end).toContain("B            restart the broker, down 5 s (asks y/n) (not for this fleet)");
    expect(end).toContain("O            cut every node's power for 2 s (asks y/n) (not for this fleet)");
    expect(end).toContain("Zoomed out: share on.");
    await keys("x");
    expect(screen()).not.toContain("raise / lower");
  });
});

describe("controls", () => {
  it("raises and lowers the loss in steps and sets it exactly from a prompt", async () => {
    const source = new FakeSource(20);
    const { keys, screen } = start(source);
    await keys("+", "+", "+", "-");
    await keys("L");
    expect(screen()).toContain("packet loss %: _");
    await keys("2", "5", KEYS.enter);
    expect(source.actions).toEqual([
      ["setLoss", 1],
      ["setLoss", 2],
      ["setLoss", 5],
      ["setLoss", 2],
      ["setLoss", 25],
    ]);
    expect(screen()).toContain("loss 25%");
  });

  it("presses, sets, power-cycles, pulls the cable of the node under the cursor and queries", async () => {
    const source = new FakeSource(200);
    const { keys, screen } = start(source);
    await keys(KEYS.right, KEYS.right, KEYS.down, "p", "1", "0", "c", "x", "r");
    const n = id(2 + 46);
    expect(source.actions).toEqual([
      ["press", n],
      ["set", n, true],
      ["set", n, false],
      ["powerCycle", n],
      ["pullCable", n, true],
      ["query"],
    ]);
    expect(screen()).toContain(`cable ${n}`);
  });

  it("pairs and unpairs through a prompt; Esc cancels", async () => {
    const source = new FakeSource(20);
    const { keys } = start(source);
    await keys("a", ..."n-0007", KEYS.enter, "u", ..."n-0001", KEYS.enter, "a", "n", KEYS.escape);
    expect(source.actions).toEqual([
      ["pair", id(0), id(7)],
      ["unpair", id(0), id(1)],
    ]);
  });

  it("refuses to pair with a node the fleet does not have, as the web API does", async () => {
    const source = new FakeSource(20);
    const { keys, screen } = start(source);
    await keys("a", ..."n-0070", KEYS.enter);
    expect(source.actions).toEqual([]);
    expect(screen()).toContain("pair: there is no node n-0070 in this fleet");
  });

  it("logs what the fleet cannot do or what failed, and keeps running", async () => {
    const readOnly = start(new FakeSource(20, NO_CAPABILITIES));
    await readOnly.keys("p", "+");
    expect(readOnly.screen()).toContain("press n-0000: not available for this fleet");
    expect(readOnly.screen()).toContain("loss 1%: not available for this fleet");

    const failing = new FakeSource(20, ALL_CAPS);
    failing.fail = "broker gone";
    const f = start(failing);
    await f.keys("p");
    await settle();
    f.handle.frame();
    expect(f.screen()).toContain("press n-0000 failed: broker gone");
    await f.keys("g", ..."n-0003", KEYS.enter);
    expect(f.screen()).toContain("fleet n-0003");
  });

  it("restarts the broker and cuts the power only after a y", async () => {
    const source = new FakeSource(20);
    const { handle, keys, screen } = start(source);
    await keys("B");
    expect(handle.text()[23]).toContain("restart the broker (kill -9, back after 5 s)? y/n");
    await keys("y");
    expect(source.actions).toEqual([["restartBroker", 5]]);
    expect(screen()).toContain("00:00 broker restart");
    expect(handle.text()[23]).toContain("?:help");

    await keys("O", "n", "O", KEYS.escape, "O", "p", "O");
    expect(source.actions).toEqual([["restartBroker", 5]]);
    expect(handle.text()[23]).toContain("cut the power of every node for 2 s? y/n");
    expect(screen()).toContain("not done: cut the power of every node for 2 s");
    await keys("y");
    expect(source.actions).toEqual([
      ["restartBroker", 5],
      ["powerOutage", 2],
    ]);
  });

  it("asks nothing of a fleet without the faults, and logs a fault that fails", async () => {
    const readOnly = start(new FakeSource(20, NO_CAPABILITIES));
    await readOnly.keys("B", "y", "O");
    expect(readOnly.handle.text()[23]).not.toContain("y/n");
    expect(readOnly.screen()).toContain("broker restart: not available for this fleet");
    expect(readOnly.screen()).toContain("power outage: not available for this fleet");

    const failing = new FakeSource(20);
    failing.fail = "the broker is not the fleet's own";
    const f = start(failing);
    await f.keys("B", "y");
    await settle();
    f.handle.frame();
    expect(f.screen()).toContain("broker restart failed: the broker is not the fleet's own");
  });

  it("shows the oldest fault in progress in the header, counting seconds on its own", async () => {
    const source = new FakeSource(100);
    const { handle } = start(source);
    expect(handle.text()[0]).not.toContain("FAULT");
    source.active = [{ what: "broker-restart", since: 39_000 }];
    source.events.emit("changed");
    handle.frame();
    expect(handle.text()[0]).toMatch(/^ FAULT broker-restart 3 s {2}100 nodes/);
    // No `changed`: the seconds tick by themselves, and a frame within the same second draws nothing.
    const calls = source.nodeCalls;
    source.clock += 400;
    handle.frame();
    expect(source.nodeCalls).toBe(calls);
    source.clock += 1600;
    handle.frame();
    expect(handle.text()[0]).toContain(" FAULT broker-restart 5 s ");
    source.active = [...source.active, { what: "power-outage 100 nodes", since: 43_000 }];
    source.events.emit("changed");
    handle.frame();
    expect(handle.text()[0]).toContain(" FAULT broker-restart 5 s +1 ");
    source.active = [];
    source.events.emit("changed");
    handle.frame();
    expect(handle.text()[0]).toMatch(/^ 100 nodes/);
  });

  it("leaves the sample count out of a narrow latency box rather than cut it (`n 410` read `n 4`)", () => {
    const { screen } = start(new FakeSource(100), 68);
    expect(screen()).toMatch(/│p50 212ms {2}p99 1\.48s {5}│/);
  });

  it("keeps the counts and the seconds in an 80-column header beside a long fault", () => {
    const source = new FakeSource(5000);
    const { handle } = start(source);
    source.active = [
      {
        what: "another twins service controls this fleet too (tf-twins-32e4032f, tf-twins-4dc68e90)",
        since: 30_000,
      },
      { what: "broker connection lost", since: 40_000 },
    ];
    source.events.emit("changed");
    handle.frame();
    // It read ` FAULT another twins service controls this fleet too (tf-twins-32e4032f, tf-twin`.
    expect(handle.text()[0]).toBe(
      " FAULT another twins ser~ 12 s +1  5000 nodes (500 real)  on 2500  in sync 87.3%",
    );
  });

  it("paces a virtual-time fleet: < > step the speed, P pauses and resumes, the header shows both", async () => {
    const source = new FakeSource(10, { ...ALL_CAPS, pace: true });
    const { keys, screen, handle } = start(source, 120);
    expect(handle.text()[0]).toContain("virtual 42 s ×1");
    expect(screen()).toContain("P:pause </>:speed");
    await keys(">", ">", ">", ">", "<", "P");
    expect(source.actions).toEqual([
      ["setPace", 10, false],
      ["setPace", 100, false],
      ["setPace", "max", false],
      ["setPace", 100, false],
      ["setPace", 100, true],
    ]);
    source.events.emit("changed");
    handle.frame();
    expect(handle.text()[0]).toContain("virtual 42 s PAUSED ×100");
    await keys("P", "<", "<", "<");
    expect(source.paceNow).toEqual({ speed: 1, paused: false });
    expect(source.actions).toHaveLength(8);
  });

  it("has no pace on a real-time fleet: the keys say so and the header shows none", async () => {
    const source = new FakeSource(10);
    const { keys, screen, handle } = start(source);
    await keys(">", "P");
    expect(source.actions).toEqual([]);
    expect(screen()).toContain("speed: not available for this fleet");
    expect(handle.text()[0]).not.toContain("virtual");
  });

  it("resolves when the user quits", async () => {
    const { handle, keys } = start(new FakeSource(5));
    await keys("q");
    await expect(handle.closed).resolves.toBe("quit");
  });

  it("tells how it closed otherwise: its terminal hung up, or the program closed it", async () => {
    const ends = [];
    for (const how of ["input ends", "close()"] as const) {
      const term = virtualTerminal();
      const input = Object.assign(term.input, { isTTY: true, setRawMode: () => input });
      const { handle } = consoleIn(new FakeSource(5), open, { input, output: term.output });
      if (how === "close()") handle.close();
      else input.end();
      ends.push(await handle.closed);
    }
    expect(ends).toEqual(["hung up", "closed"]);
  });
});
