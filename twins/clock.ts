/**
 * The twins layer's time. Every timestamp and timer of the service (last-seen, the in-sync series,
 * the connect timeout, re-check delays, the convergence throttle, the services lookup's bound) goes
 * through one injected `Scheduler` (node/scheduler.ts). `wallScheduler` is the default: node/'s
 * `RealScheduler` counting from the Unix epoch, so last-seen times kept in the store stay dates.
 * Tests and virtual runs pass `FakeScheduler` instead.
 */
import { RealScheduler, type Scheduler } from "../node/scheduler.js";

export { after, every, hostTurn, type Scheduler, type Timer } from "../node/scheduler.js";

/** Wall time (ms since the Unix epoch) on the host's timers. */
export const wallScheduler: Scheduler = RealScheduler.epoch();
