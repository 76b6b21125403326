/**
 * The twins' view puts off carrying convergence reports into the nodes' sync until it is read
 * (view/node-sync.ts): the event stream settles it before each batch, so a node whose sync moved
 * goes out in the next 50 ms batch, not a second later when the convergence frame happens to read it.
 */
import type { ServerResponse } from "node:http";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { a, b, FakeTwins } from "../../view/test/fake-twins.js";
import { TwinsSource } from "../../view/twins-source.js";
import { EventHub } from "../events.js";

/** A page that reads everything: the response's calls the hub makes. */
function page(): ServerResponse & { text: string } {
  const res = {
    text: "",
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    writeHead: () => res,
    end: () => res,
    on: () => res,
    write: (s: string) => {
      res.text += s;
      return true;
    },
  };
  return res as unknown as ServerResponse & { text: string };
}

it("sends a sync moved by a convergence report in the next batch", () => {
  const t = new FakeTwins();
  const sched = new FakeScheduler(0);
  const source = new TwinsSource(t, "mqtt://x", sched);
  const hub = new EventHub(source, "twins", sched);
  const res = page();
  hub.attach(res);
  expect(source.node(b)?.sync).toBe("out-of-sync");
  sched.advance(50);
  res.text = "";
  // Many reports within one batch, as a virtual run flat out sends them: the last one counts.
  for (let i = 0; i < 20; i++)
    t.emit("convergence", {
      followers: [
        {
          id: b,
          status: i % 2 === 0 ? "behind" : "in-sync",
          stamp: undefined,
          target: undefined,
          waitingOn: [a],
        },
      ],
      inSync: i % 2,
      known: 1,
      fraction: i % 2,
    });
  sched.advance(50);
  expect(res.text).toMatch(/event: nodes\ndata: \{"nodes":\[\{"id":"b",[^\n]*"sync":"in-sync"/);
  hub.close();
  source.close();
});
