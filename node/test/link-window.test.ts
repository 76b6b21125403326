/**
 * Linux's congestion window as node/link-window.ts keeps it: the initial window, the Loss state an
 * RTO starts (cwnd 1: new data waits for the ACK that ends it), slow start only while the window
 * limits the sender, and the reduction after a tail loss probe that repaired a loss.
 */
import { describe, expect, it } from "vitest";
import { INIT_CWND, LinuxWindow } from "../link-window.js";

describe("LinuxWindow", () => {
  it("lets INIT_CWND segments fly, then holds the next until an ACK frees room", () => {
    const w = new LinuxWindow();
    for (let i = 0; i < INIT_CWND; i++) {
      expect(w.releaseAt(i)).toBe(i);
      w.record(i, 100 + i, true, []);
    }
    expect(w.inFlight(10)).toBe(INIT_CWND);
    // The first ACK (at 100) frees a slot.
    expect(w.releaseAt(10)).toBe(100);
  });

  it("after an RTO holds new data until the ACK that ends the Loss state, then slow-starts", () => {
    const w = new LinuxWindow();
    // Sent at 0; the RTO fires at 400 (a real retransmission), its ACK comes at 900.
    w.record(0, 900, true, [400]);
    expect(w.releaseAt(300)).toBe(300);
    w.record(300, 350, true, []);
    expect(w.releaseAt(500)).toBe(900);
    expect(w.cwnd).toBe(1);
    expect(w.ssthresh).toBe(7); // max(floor(10 · 717/1024), 2)
    expect(w.lossUntil).toBe(900);
    // The ACK at 900 grows the window by one: with one segment in flight, 2 is the most it grows to.
    w.advance(900);
    expect(w.cwnd).toBe(2);
    w.record(900, 950, true, []);
    w.advance(950);
    expect(w.cwnd).toBe(2);
  });

  it("does not hold data behind a Loss state the connection never leaves", () => {
    const w = new LinuxWindow();
    w.record(0, Number.POSITIVE_INFINITY, false, [400, 1200]);
    expect(w.releaseAt(500)).toBe(500);
  });

  it("cuts the window to ssthresh when a tail loss probe repaired a loss", () => {
    const w = new LinuxWindow();
    w.record(0, 250, true, [], 250);
    w.advance(250);
    expect(w.ssthresh).toBe(7);
    expect(w.cwnd).toBe(7);
  });
});
