/**
 * A twins service as its log sees it (cli/twins-events-log.ts), faked: its events emitted by hand,
 * its twins patched in place, the lines written at `level` collected, time on a FakeScheduler.
 */
import { EventEmitter } from "node:events";
import { pino } from "pino";
import { FakeScheduler } from "../../node/scheduler.js";
import type { Twin, TwinsEvents } from "../../twins/types.js";
import { logEvents } from "../twins-events-log.js";

export interface Line {
  level: number;
  msg: string;
  node?: string;
  [k: string]: unknown;
}

export class FakeTwins extends EventEmitter<TwinsEvents> {
  readonly twins = new Map<string, Twin>();
  /** How many times list() was called: a view of every twin each time. */
  listed = 0;
  list(): Twin[] {
    this.listed++;
    return [...this.twins.values()];
  }
  count(): number {
    return this.twins.size;
  }
  /** The node as it is now, `patch` applied. */
  twin(id: string, patch: Partial<Twin> = {}): Twin {
    const was =
      this.twins.get(id) ?? ({ id, presence: "offline", follows: [], followers: [] } as unknown as Twin);
    const tw = { ...was, ...patch } as Twin;
    this.twins.set(id, tw);
    return tw;
  }
}

/** The log of a fake service from time 0, its lines at `level` and above. */
export function loggedTwins(level: "info" | "debug") {
  const scheduler = new FakeScheduler(0);
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const t = new FakeTwins();
  const log = logEvents(t, logger, scheduler);
  return { scheduler, lines, t, log };
}
