/**
 * The event stream's `hello` carries the last log lines (web/events.ts, LOG_HISTORY), so a page
 * opened after a broker restart or a node's loss shows it: a page showed only the lines that came
 * after it opened, and an operator who opened it after the fact saw an empty Events card. The lines
 * waiting for the next batch when a stream opens come in that batch alone, not in `hello` as well.
 * Driven on a FakeScheduler through the hub itself, so which lines are waiting is exact.
 */
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { BATCH_MS, EventHub, LOG_HISTORY } from "../events.js";
import { QuietSource } from "./helpers.js";

class TalkingSource extends QuietSource {
  readonly title = "talking";
  private t = 0;
  now = () => this.t;
  nodes = () => [
    {
      id: NodeId("n-1"),
      kind: "sim" as const,
      on: false,
      online: true,
      sync: "unknown" as const,
      version: 1,
    },
  ];
  say(text: string): void {
    this.events.emit("log", { t: ++this.t, level: "info", text });
  }
}

/** A response the hub writes frames to; `frames(event)` reads them back. */
function stream(): { res: ServerResponse; frames: (event: string) => unknown[] } {
  let written = "";
  const res = {
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    writeHead: () => res,
    write: (s: string) => {
      written += s;
      return true;
    },
    on: () => res,
    end: () => undefined,
  };
  const frames = (event: string) =>
    written
      .split("\n\n")
      .filter((f) => f.startsWith(`event: ${event}\n`))
      .map((f) => JSON.parse(f.slice(f.indexOf("data: ") + 6)) as unknown);
  return { res: res as unknown as ServerResponse, frames };
}

const texts = (lines: unknown) => (lines as { text: string }[]).map((l) => l.text);

describe("the log lines a stream opens with", () => {
  it("are the last ones logged, bounded, oldest first, with no stream open before", () => {
    const sched = new FakeScheduler();
    const source = new TalkingSource();
    const hub = new EventHub(source, "twins", sched);
    for (let i = 1; i <= LOG_HISTORY + 50; i++) source.say(`line ${i}`);
    const a = stream();
    hub.attach(a.res);
    const [hello] = a.frames("hello") as { log: { t: number; level: string; text: string }[] }[];
    expect(hello?.log).toHaveLength(LOG_HISTORY);
    expect(hello?.log[0]).toEqual({ t: 51, level: "info", text: "line 51" });
    expect(hello?.log.at(-1)?.text).toBe(`line ${LOG_HISTORY + 50}`);
    hub.close();
  });

  it("leave out the lines waiting for the next batch, which brings them once", () => {
    const sched = new FakeScheduler();
    const source = new TalkingSource();
    const hub = new EventHub(source, "twins", sched);
    source.say("broker lost");
    const a = stream();
    hub.attach(a.res);
    source.say("n-1 offline");
    // b opens with "n-1 offline" waiting for the batch that sends it to a (and to b).
    const b = stream();
    hub.attach(b.res);
    sched.advance(BATCH_MS);
    for (const s of [a, b]) {
      const seen = [...texts((s.frames("hello")[0] as { log: unknown }).log), ...texts(s.frames("log"))];
      expect(seen).toEqual(["broker lost", "n-1 offline"]);
    }
    // A stream opened again later has them all in its hello, and nothing after.
    const c = stream();
    hub.attach(c.res);
    sched.advance(BATCH_MS);
    expect(texts((c.frames("hello")[0] as { log: unknown }).log)).toEqual(["broker lost", "n-1 offline"]);
    expect(c.frames("log")).toEqual([]);
    hub.close();
  });
});
