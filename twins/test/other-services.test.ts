// Another twins service on the fleet is told whenever it comes or goes, not only at the first
// connection (twins/other-services.ts; docs/twins.md, "Presence"): the watch alone on a fake clock,
// then two services on one broker.
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import {
  type ControlClient,
  OtherServices,
  OWN_CLEAR_WAIT_MS,
  RECONNECT_GRACE_MS,
  replacedLine,
} from "../other-services.js";
import type { TwinsServiceInfo } from "../presence.js";
import { TwinRegistry } from "../registry.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { Fixtures, until } from "./helpers.js";

function watch() {
  const sched = new FakeScheduler(0);
  const lines: { level: number; msg: string }[] = [];
  const told: (readonly TwinsServiceInfo[])[] = [];
  const published: [string, string][] = [];
  const client: ControlClient = {
    subscribeAsync: async () => undefined,
    publishAsync: async (topic, payload) => void published.push([topic, payload]),
  };
  const w = new OtherServices(
    {
      prefix: Prefix("tf"),
      clientId: "tf-twins-me",
      startedAt: 1000,
      scheduler: sched,
      logger: pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    },
    (s) => told.push(s),
  );
  const msg = (id: string, payload: string, retained = false) =>
    w.message(`tf/control/${id}`, Buffer.from(payload), retained);
  return { sched, lines, told, published, client, w, msg };
}

describe("the other twins services, watched while the service runs", () => {
  it("tells a service that starts after this one, and when it leaves", async () => {
    const { sched, lines, told, client, w, msg } = watch();
    await w.subscribe(client);
    msg("tf-twins-me", "P1 1000", true); // its own presence, replayed: no other
    sched.advance(REPLAY_SETTLE_MS * 2);
    expect(told).toEqual([]);
    expect(lines).toEqual([]);

    expect(msg("tf-twins-late", "P1 5000")).toBe(true);
    expect(w.list).toEqual([{ clientId: "tf-twins-late", since: 5000 }]);
    expect(lines.at(-1)).toMatchObject({ level: 40 });
    expect(lines.at(-1)?.msg).toMatch(
      /^twins: another twins service controls this fleet \(tf-twins-late since 1970-01-01T00:00:05.000Z\): each sends its own desired pairings and sets, and they undo each other's; run one per fleet \(one that no longer runs left its presence on a broker that lost its last will, after a power loss: clear it with an empty retained message, mosquitto_pub -r -n -t tf\/control\/tf-twins-late\)$/,
    );
    msg("tf-twins-late", "");
    expect(w.list).toEqual([]);
    expect(told).toEqual([[{ clientId: "tf-twins-late", since: 5000 }], []]);
    expect(lines.at(-1)).toMatchObject({ level: 40 });
    expect(lines.at(-1)?.msg).toMatch(/tf-twins-late left the fleet .*this service is the only one/);
    // Node topics are not its business.
    expect(w.message("tf/config/n-1", Buffer.from("C1 1"), true)).toBe(false);
  });

  it("tells what a replay shows once it is over, in one line", async () => {
    const { sched, lines, told, client, w, msg } = watch();
    await w.subscribe(client);
    msg("tf-twins-a", "P1 10", true);
    sched.advance(REPLAY_SETTLE_MS - 1);
    msg("tf-twins-b", "P1 20", true);
    expect(told).toEqual([]);
    sched.advance(REPLAY_SETTLE_MS);
    expect(told).toHaveLength(1);
    expect(w.list.map((s) => s.clientId)).toEqual(["tf-twins-a", "tf-twins-b"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toMatch(/^twins: 2 other twins services control this fleet \(tf-twins-a since/);
  });

  it("after a reconnect drops one gone meanwhile and keeps one that published again during the replay", async () => {
    const { sched, lines, told, client, w, msg } = watch();
    await w.subscribe(client);
    msg("tf-twins-gone", "P1 10", true);
    msg("tf-twins-back", "P1 20", true);
    sched.advance(REPLAY_SETTLE_MS * 2);
    expect(w.list).toHaveLength(2);
    // The broker restarted empty: this service reconnects; `back` does too, just after it subscribed
    // (a live presence, not a replayed one); `gone` never does.
    await w.subscribe(client);
    msg("tf-twins-back", "P1 20");
    sched.advance(REPLAY_SETTLE_MS * 2);
    expect(told).toHaveLength(1); // `gone` may still be reconnecting
    sched.advance(RECONNECT_GRACE_MS);
    expect(w.list).toEqual([{ clientId: "tf-twins-back", since: 20 }]);
    expect(told).toHaveLength(2);
    expect(lines.at(-1)?.msg).toMatch(
      /the other twins service tf-twins-gone left the fleet .*still on it: tf-twins-back/,
    );
  });

  it("keeps one the replay did not show that reconnects within the grace: nothing told", async () => {
    const { sched, lines, told, client, w, msg } = watch();
    await w.subscribe(client);
    msg("tf-twins-b", "P1 20", true);
    sched.advance(REPLAY_SETTLE_MS * 2);
    expect(told).toHaveLength(1);
    // The broker restarted empty: this service is back first, the other 1 s later.
    await w.subscribe(client);
    sched.advance(REPLAY_SETTLE_MS * 2);
    sched.advance(1000);
    msg("tf-twins-b", "P1 20");
    sched.advance(RECONNECT_GRACE_MS);
    expect(w.list).toEqual([{ clientId: "tf-twins-b", since: 20 }]);
    expect(told).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });

  it("tells once a broker that refuses the presences' topic, and serves on", async () => {
    const { lines, client, w } = watch();
    const refused = { ...client, subscribeAsync: async () => [{ topic: "tf/control/+", qos: 128 }] };
    await w.subscribe(refused);
    const rejected = {
      ...client,
      subscribeAsync: () =>
        Promise.reject(Object.assign(new Error("refused"), { packet: { granted: [128] } })),
    };
    await w.subscribe(rejected); // a reconnect: not told again
    await w.subscribe({ ...client, subscribeAsync: () => Promise.reject(new Error("connection closed")) });
    expect(lines.map((l) => l.msg)).toEqual([
      "twins: the broker refused the subscription to tf/control/+: another twins service on this fleet is not told (its access rules must let a control login read the presences)",
    ]);
  });

  it("publishes its own presence again when another client clears it while it runs", async () => {
    const { sched, lines, published, client, w, msg } = watch();
    await w.subscribe(client);
    sched.advance(REPLAY_SETTLE_MS * 2);
    msg("tf-twins-me", "");
    await Promise.resolve();
    expect(published).toEqual([]); // not yet: a broker stopping publishes the wills, then closes
    sched.advance(OWN_CLEAR_WAIT_MS);
    await Promise.resolve();
    expect(published).toEqual([["tf/control/tf-twins-me", "P1 1000"]]);
    expect(lines.at(-1)?.msg).toMatch(/another client cleared this service's presence/);
    expect(w.list).toEqual([]);
    w.stop(); // closing: its own goodbye clears it, and that is not answered
    msg("tf-twins-me", "");
    expect(published).toHaveLength(1);
  });
});

const fx = new Fixtures();
afterEach(() => fx.close());

describe("two twins services on one broker", () => {
  it("the one running first is told of the second, and each of the other's leaving", async () => {
    await fx.broker();
    const first = await fx.twins({ clientId: "tf-twins-first" });
    const events: string[][] = [];
    first.on("other-services", (s) => events.push(s.map((x) => x.clientId)));
    const second = await fx.twins({ clientId: "tf-twins-second" });
    await until(() => first.otherServices.length === 1, "the first told of the second");
    await until(() => second.otherServices.length === 1, "the second told of the first");
    expect(first.otherServices[0]?.clientId).toBe("tf-twins-second");
    expect(second.otherServices[0]?.clientId).toBe("tf-twins-first");
    await second.kill(); // its will clears its presence
    await until(() => first.otherServices.length === 0, "the first told the second left");
    expect(events).toEqual([["tf-twins-second"], []]);
  });
});

describe("a broker that stops, publishing its clients' wills first (Mosquitto on SIGTERM)", () => {
  it("is not told as another client clearing this service's presence, which is back once reconnected", async () => {
    const broker = await fx.broker();
    const lines: { level: number; msg: string }[] = [];
    const waits: (() => void)[] = [];
    const logger = pino(
      { level: "info" },
      {
        write: (l: string) => {
          lines.push(JSON.parse(l));
          for (const w of waits.splice(0)) w();
        },
      },
    );
    /** Resolves once a log line holds `text` (each line written wakes it; bounded by the test's timeout). */
    const line = async (text: string) => {
      while (!lines.some((l) => l.msg.includes(text))) await new Promise<void>((r) => waits.push(r));
    };
    await fx.twins({ clientId: "tf-twins-me", logger, reconnectPeriodMs: 100 });
    await line("connected and queried");
    // The will, delivered to the service, then its connection closed by the broker: Mosquitto's order.
    await new Promise<void>((resolve) =>
      broker.aedes.publish(
        {
          cmd: "publish",
          topic: "tf/control/tf-twins-me",
          payload: Buffer.alloc(0),
          qos: 1,
          retain: true,
          dup: false,
        },
        () => resolve(),
      ),
    );
    // Ended, not destroyed: what was written to the socket (the will) reaches the service first.
    const conn = (broker.aedes as unknown as { clients: Record<string, { conn: { end(): void } }> }).clients[
      "tf-twins-me"
    ]?.conn;
    if (!conn) throw new Error("no connection of tf-twins-me on the broker");
    conn.end();
    await line("published this service's will");
    await line("connection back");
    // Published again on reconnecting: the presence is on the broker once more.
    const retained = await new Promise<string>((resolve) => {
      const c = mqtt.connect(broker.url);
      c.on("message", (_t, p) => {
        c.end(true);
        resolve(p.toString());
      });
      c.subscribe("tf/control/tf-twins-me");
    });
    expect(retained).toMatch(/^P1 \d+/);
    const told = lines.find((l) => l.msg.includes("published this service's will"));
    expect(told).toMatchObject({ level: 30 });
    expect(told?.msg).toBe(
      "twins: the broker published this service's will (its presence tf/control/tf-twins-me cleared) as it closed the connection, as a broker stopping does: the presence is published again once reconnected",
    );
    expect(lines.filter((l) => l.msg.includes("another client cleared"))).toEqual([]);
  });
});

describe("a pairing replaced by another twins service", () => {
  it("is told by the service whose pairing gave way, naming the other and what the node follows now", async () => {
    await fx.broker();
    for (const id of ["X", "S1", "S2"]) await fx.node(id);
    const lines: { level: number; msg: string; node?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const first = await fx.twins({ clientId: "tf-twins-first", logger });
    const second = await fx.twins({ clientId: "tf-twins-second" });
    const events: string[] = [];
    first.on("pairing-replaced", (t, was, others) =>
      events.push(
        `${t.id} ${t.desired.sources.join(",")} was ${was.join(",")} ${others.map((o) => o.clientId)}`,
      ),
    );
    await until(() => first.otherServices.length === 1 && second.get("X")?.presence === "online", "both up");
    await first.pair("X", "S1");
    await until(
      () => second.get("X")?.pairing === "confirmed" && sameIds(second.get("X")?.desired.sources, ["S1"]),
      "the second took the first's pairing",
    );
    expect(lines.filter((l) => l.msg.includes("was replaced"))).toEqual([]);
    await second.unpair("X", "S1");
    await second.pair("X", "S2");
    await until(() => sameIds(first.get("X")?.desired.sources, ["S2"]), "the first gave way");
    const told = lines.filter((l) => l.msg.includes("was replaced"));
    expect(told.at(-1)).toMatchObject({ level: 40, node: "X" });
    expect(told.at(-1)?.msg).toMatch(
      /^twins: the pairing of X was replaced by another control tool's, carried out by the node: it follows S2 now \(this service had nobody\); another twins service controls this fleet \(tf-twins-second\): the last command the node carries out stands$/,
    );
    // The same as an event, for a console whose service logs nowhere (view/twins-source.ts).
    expect(events.at(-1)).toBe("X S2 was  tf-twins-second");
  });
});

describe("a pairing replaced by a newer config the broker holds, seen before the node", () => {
  it("says so, and that it may be this service's own made after its stored state, not that the node is away", () => {
    // A twins.json restored from an older backup: the broker's copy of the node's config (version 4)
    // is replayed before its status. The node was online; the line said it was away.
    const r = new TwinRegistry(Prefix("tf"));
    r.restore({ nodes: { A: { sources: [NodeId("B")], configVersion: 1, kind: "sim", lastSeen: 5 } } });
    r.receive("tf/config/A", "C1 4 B C", 1, 0, true);
    const twin = r.get(NodeId("A"));
    if (twin === undefined) throw new Error("no twin A");
    expect(replacedLine(twin, [NodeId("B")], [])).toEqual({
      level: "info",
      text: "the pairing of A was replaced by a newer config the broker holds (version 4), seen before the node was heard: another control tool's, or one made after the state this service started from (a twins.json restored from an older backup?); it follows B, C once the node shows it (this service had B)",
    });
    // Its presence heard, the line is as it was.
    r.receive("tf/status/A", "T1 0", 1, 0, true);
    const away = r.get(NodeId("A"));
    expect(away && replacedLine(away, [NodeId("B")], []).text).toMatch(
      /^the pairing of A was replaced by another control tool's, written for it while it is away: it follows B, C once it returns/,
    );
  });

  it("says a stored pairing behind the node's config may be this service's own the store never got, the node heard first", () => {
    // A service killed while a frozen disk held its save: the node carries the pairing (version 4),
    // twins.json has the one before. The node heard online first, the line said another control
    // tool had commanded it.
    const r = new TwinRegistry(Prefix("tf"));
    r.restore({
      nodes: { A: { sources: [NodeId("B")], configVersion: 1, kind: "sim", lastSeen: 5, pending: true } },
    });
    r.receive("tf/status/A", "T1 1", 1, 0, false);
    const fx = r.receive("tf/config/A", "C1 4 B C", 1, 0, true);
    expect(fx).toContainEqual({ type: "desired-changed", node: "A", replaced: ["B"], fromStore: true });
    const twin = r.get(NodeId("A"));
    if (twin === undefined) throw new Error("no twin A");
    expect(replacedLine(twin, [NodeId("B")], [], true).text).toBe(
      "the pairing of A was replaced by a newer config the node carries (version 4), made after the state this service started from: another control tool's, or one of this service's own its store never got (killed while a save was under way?); it follows B, C now (this service had B)",
    );
    // A config after that one is no longer the store's word against the node's.
    const later = r.receive("tf/config/A", "C1 5 C", 1, 0, false);
    expect(later).toContainEqual({ type: "desired-changed", node: "A", replaced: ["B", "C"] });
  });
});

function sameIds(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && b.every((x) => a.includes(x));
}

describe("a broker whose access rules refuse the presences' topic", () => {
  it("leaves the service connected and querying, told once", async () => {
    const broker = await fx.broker();
    broker.aedes.authorizeSubscribe = (_client, sub, done) =>
      done(null, sub.topic.includes("/control/") ? null : sub);
    await fx.node("X");
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
    const t = await fx.twins({ clientId: "tf-twins-first", logger });
    await until(() => t.get("X")?.kind === "sim", "X registered, answering the query");
    expect(lines.filter((l) => l.includes("refused the subscription to tf/control/+"))).toHaveLength(1);
  });
});
