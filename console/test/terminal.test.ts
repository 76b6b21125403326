/**
 * The console on terminals that misbehave: one that hangs up under it (its input ends, with or
 * without a SIGHUP to follow).
 */
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type ConsoleHandle, openConsole } from "../app.js";
import { FakeSource, manualScheduler, settle, virtualTerminal } from "./helpers.js";

const open: ConsoleHandle[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

function start(source: FakeSource, term = virtualTerminal(80, 24)) {
  const handle = openConsole(source, {
    input: term.input,
    output: term.output,
    terminal: "xterm",
    ascii: true,
    handleProcess: false,
    scheduler: manualScheduler(),
  });
  open.push(handle);
  let isClosed = false;
  void handle.closed.then(() => {
    isClosed = true;
  });
  return { handle, closed: () => isClosed };
}

describe("a terminal that hangs up", () => {
  it("closes the console when the terminal's input ends, as SIGHUP would", async () => {
    const term = virtualTerminal(80, 24);
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const c = start(new FakeSource(50), { input, output: term.output });
    input.end();
    await settle();
    await settle();
    expect(c.closed()).toBe(true);
  });
});
