/**
 * What the tests of a broker start held by its store (a frozen data directory, a Redis that does not
 * answer) share: the start's log kept as lines, and a wait on a condition a host turn at a time.
 */
import pino from "pino";
import { hostTurn } from "../../node/scheduler.js";

export interface Line {
  level: number;
  msg: string;
}

/** A logger at info whose lines are kept, parsed, in `lines`. */
export function keptLog(): { lines: Line[]; logger: pino.Logger } {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  return { lines, logger };
}

/** Waits, a host turn at a time, until `ok()`: a generous bound (the first start loads its store's module). */
export async function until(ok: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 20_000;
  while (!ok() && performance.now() < end) await hostTurn();
  if (!ok()) throw new Error(`never happened: ${what}`);
}
