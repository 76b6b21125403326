/**
 * Quitting a console whose fleet has work to finish (a simulated run's settle): the first `q` asks
 * the source to finish and keeps the console open with the source's countdown in the footer, redrawn
 * as the source's clock moves; keys then do nothing but a second `q` or Ctrl-C, which closes at once.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ConsoleHandle } from "../app.js";
import { consoleIn, FakeSource, settle, virtualTerminal } from "./helpers.js";

/** A fleet that settles for 10 s after the first quit, counting down on its own clock. */
class SettlingSource extends FakeSource {
  quits = 0;
  until: number | undefined;

  quit(): boolean {
    this.quits++;
    this.until = this.clock + 10_000;
    return true;
  }

  ending(): string | undefined {
    if (this.until === undefined) return undefined;
    return `settling: ${Math.max(0, Math.ceil((this.until - this.clock) / 1000))} s left`;
  }
}

const open: ConsoleHandle[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

function start(source: FakeSource) {
  const term = virtualTerminal(80, 24);
  const { handle, closed } = consoleIn(source, open, term);
  const keys = async (...ks: string[]) => {
    for (const k of ks) {
      term.input.write(k);
      await settle();
    }
    handle.frame();
  };
  const footer = () => handle.text().at(-1) ?? "";
  return { handle, keys, footer, closed };
}

describe("quitting while the fleet settles", () => {
  it("says it is settling, counts down with the source's clock, and a second q ends at once", async () => {
    const source = new SettlingSource(50);
    const c = start(source);
    expect(c.footer()).toContain("q:quit");
    await c.keys("q");
    await settle();
    expect(c.closed()).toBe(false);
    expect(source.quits).toBe(1);
    expect(c.footer()).toContain("settling: 10 s left");
    expect(c.footer()).toContain("q or Ctrl-C: stop now");
    // No `changed` from the source: the countdown redraws because its text changed.
    source.clock += 3_500;
    c.handle.frame();
    expect(c.footer()).toContain("settling: 7 s left");
    const calls = source.nodeCalls;
    source.clock += 100; // still 7 s: nothing to draw
    c.handle.frame();
    expect(source.nodeCalls).toBe(calls);
    // Actions are over: a press, a loss change or help does nothing while the fleet finishes.
    await c.keys("p", "+", "?");
    expect(source.actions).toEqual([]);
    expect(c.footer()).toContain("settling: 7 s left");
    await c.keys("q");
    await expect(c.handle.closed).resolves.toBe("quit");
    expect(source.quits).toBe(1);
  });

  it("Ctrl-C is the same: the first one settles, the second one ends", async () => {
    const source = new SettlingSource(50);
    const c = start(source);
    await c.keys("\x03");
    await settle();
    expect(c.closed()).toBe(false);
    expect(c.footer()).toContain("settling: 10 s left");
    await c.keys("\x03");
    await expect(c.handle.closed).resolves.toBe("quit");
    expect(source.quits).toBe(1);
  });

  it("closes on the first q when the source has nothing to finish", async () => {
    const source = new FakeSource(5);
    const c = start(source);
    await c.keys("q");
    await expect(c.handle.closed).resolves.toBe("quit");
  });

  it("closes on the first q when the source says it has nothing left to finish", async () => {
    const source = new (class extends SettlingSource {
      override quit(): boolean {
        this.quits++;
        return false;
      }
    })(5);
    const c = start(source);
    await c.keys("q");
    await expect(c.handle.closed).resolves.toBe("quit");
    expect(source.quits).toBe(1);
  });
});
