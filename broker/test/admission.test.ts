/**
 * The abuse limits' bookkeeping on an injected clock: connection rate and pending cap per address,
 * failed-login bans per address and per username (doubling on repeat), one log line per ban, and
 * the password-check queue taking addresses in turn.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  Admission,
  type AdmissionLimits,
  isRefusal,
  type PendingTicket,
  type Refusal,
} from "../admission.js";
import { LoginQueue } from "../login-guard.js";

const LIMITS: AdmissionLimits = {
  connectionRatePerAddress: 10,
  connectionBurstPerAddress: 3,
  maxPendingPerAddress: 100,
  loginFailuresPerAddress: 3,
  loginFailuresPerUsername: 5,
  loginFailureWindowMs: 10_000,
  banMs: 1_000,
};

function setup(limits: Partial<AdmissionLimits> = {}) {
  const clock = { t: 0 };
  const lines: { msg: string; level: number }[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const admission = new Admission({ ...LIMITS, ...limits }, logger, () => clock.t);
  return { clock, lines, admission };
}

function ticket(v: PendingTicket | Refusal): PendingTicket {
  if (isRefusal(v)) throw new Error(`refused: ${v.kind}`);
  return v;
}

describe("Admission", () => {
  it("lets an address open its burst, then refuses until the rate refills it", () => {
    const { clock, admission, lines } = setup();
    for (let i = 0; i < 3; i++) ticket(admission.accept("10.0.0.1")).settle();
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "rate" });
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "rate" });
    expect(isRefusal(admission.accept("10.0.0.2"))).toBe(false);
    clock.t = 100; // 10/s: one more after 100 ms
    ticket(admission.accept("10.0.0.1"));
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "rate" });
    const throttled = lines.filter((l) => l.msg.includes("over its connection rate"));
    expect(throttled).toHaveLength(2); // one per episode, not one per refused connection
  });

  it("caps connections not yet past CONNECT per address; settling frees a place once", () => {
    const { admission } = setup({ maxPendingPerAddress: 2, connectionBurstPerAddress: 100 });
    const a = ticket(admission.accept("10.0.0.1"));
    ticket(admission.accept("10.0.0.1"));
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "pending" });
    a.settle();
    a.settle();
    ticket(admission.accept("10.0.0.1"));
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "pending" });
  });

  it("bans an address after its failures within the window, for banMs, doubling on a repeat", () => {
    const { clock, admission, lines } = setup();
    admission.recordLogin("10.0.0.1", "u1", false);
    admission.recordLogin("10.0.0.1", "u2", false);
    expect(admission.loginRefusal("10.0.0.1", "u3")).toBeUndefined();
    admission.recordLogin("10.0.0.1", "u3", false);
    expect(admission.loginRefusal("10.0.0.1", "u3")).toEqual({ kind: "address-banned", until: 1_000 });
    expect(admission.accept("10.0.0.1")).toEqual({ kind: "address-banned", until: 1_000 });
    expect(admission.loginRefusal("10.0.0.2", "u3")).toBeUndefined();
    // Failures while banned (logins already past the check) neither extend nor repeat the ban.
    admission.recordLogin("10.0.0.1", "u4", false);
    clock.t = 1_000;
    expect(admission.loginRefusal("10.0.0.1", "u1")).toBeUndefined();
    for (let i = 0; i < 3; i++) admission.recordLogin("10.0.0.1", "u1", false);
    expect(admission.loginRefusal("10.0.0.1", "u1")).toEqual({ kind: "address-banned", until: 3_000 });
    const bans = lines.filter((l) => l.msg === "address banned: too many failed logins");
    expect(bans.map((l) => (l as unknown as { banMs: number }).banMs)).toEqual([1_000, 2_000]);
  });

  it("forgets failures older than the window", () => {
    const { clock, admission } = setup();
    admission.recordLogin("10.0.0.1", undefined, false);
    admission.recordLogin("10.0.0.1", undefined, false);
    clock.t = 10_001;
    admission.recordLogin("10.0.0.1", undefined, false);
    expect(admission.loginRefusal("10.0.0.1", undefined)).toBeUndefined();
    admission.recordLogin("10.0.0.1", undefined, false);
    admission.recordLogin("10.0.0.1", undefined, false);
    expect(admission.loginRefusal("10.0.0.1", undefined)?.kind).toBe("address-banned");
  });

  it("bans a username tried from many addresses, except from where it has logged in", () => {
    const { admission } = setup({ loginFailuresPerAddress: 100 });
    admission.recordLogin("10.0.0.9", "alice", true);
    for (let i = 1; i <= 5; i++) admission.recordLogin(`10.0.1.${i}`, "alice", false);
    expect(admission.loginRefusal("10.0.2.1", "alice")).toEqual({ kind: "username-banned", until: 1_000 });
    expect(admission.loginRefusal("10.0.0.9", "alice")).toBeUndefined();
    expect(admission.loginRefusal("10.0.2.1", "bob")).toBeUndefined();
  });

  it("bans an IPv6 /64 for the failures of its addresses, except a host that logged in before", () => {
    const { admission, clock, lines } = setup();
    const net = "2001:db8::/64";
    admission.recordLogin(net, "lamp", true, "2001:db8::9");
    for (let i = 1; i <= 3; i++) admission.recordLogin(net, "x", false, `2001:db8::1:${i}`);
    expect(lines.filter((l) => l.msg === "address banned: too many failed logins")).toHaveLength(1);
    // A made-up address of the /64 is refused, at accept and at login.
    expect(admission.accept(net, "2001:db8::1:77")).toEqual({ kind: "address-banned", until: 1_000 });
    expect(admission.loginRefusal(net, "x", "2001:db8::1:78")?.kind).toBe("address-banned");
    // The host that logged in before is let in, until failures of its own ban it.
    ticket(admission.accept(net, "2001:db8::9"));
    expect(admission.loginRefusal(net, "lamp", "2001:db8::9")).toBeUndefined();
    for (let i = 0; i < 3; i++) admission.recordLogin(net, "lamp", false, "2001:db8::9");
    expect(admission.accept(net, "2001:db8::9")).toEqual({ kind: "address-banned", until: 1_000 });
    clock.t = 1_001;
    ticket(admission.accept(net, "2001:db8::1:77"));
  });
});

describe("LoginQueue", () => {
  /** A task that records its start and finishes when released. */
  function gated(order: string[], name: string) {
    let release = () => {};
    const done = new Promise<void>((r) => {
      release = r;
    });
    return {
      task: () => {
        order.push(name);
        return done;
      },
      release: () => release(),
    };
  }

  it("runs at most `concurrency` tasks and takes waiting addresses in turn", async () => {
    const order: string[] = [];
    const queue = new LoginQueue(2);
    const flood = Array.from({ length: 20 }, (_, i) => gated(order, `A${i}`));
    for (const g of flood) queue.run("A", g.task);
    const valid = gated(order, "B0");
    queue.run("B", valid.task);
    expect(order).toEqual(["A0", "A1"]);
    expect(queue.waiting).toBe(19);
    flood[0]?.release();
    await new Promise((r) => setImmediate(r));
    flood[1]?.release();
    await new Promise((r) => setImmediate(r));
    // B waited for the checks already running and one turn of A's backlog, not for all 20.
    expect(order.slice(0, 4)).toEqual(["A0", "A1", "A2", "B0"]);
    expect(order.length).toBe(4);
  });

  it("keeps going when a task fails", async () => {
    const queue = new LoginQueue(1);
    const order: string[] = [];
    queue.run("A", () => Promise.reject(new Error("boom")));
    const next = gated(order, "A1");
    queue.run("A", next.task);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["A1"]);
  });
});
