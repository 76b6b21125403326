/**
 * Plays one row of the conformance table against a live broker over real TCP sockets: opens the
 * named connections, sends each step's bytes, and checks the exact bytes (or the close) that come
 * back. Waits are event-driven with a timeout; only the keepalive rows wait on the clock.
 */
import { connect as connectTcp, type Socket } from "node:net";

/** Named connections of one row: "a", "b", ... */
export type Conn = string;
type Bytes = Buffer | ((last: Buffer) => Buffer);

export type Step =
  /** Open a TCP connection. */
  | { readonly open: Conn }
  /** Send bytes; a function gets the packet the last `expect` on this connection matched. */
  | { readonly send: Conn; readonly bytes: Bytes }
  /** The next bytes received must match this hex pattern exactly (`??` matches any byte). */
  | { readonly expect: Conn; readonly hex: string }
  /**
   * The broker closes the connection, with nothing more sent before it; `withinMs`: no sooner than
   * its first figure after the last bytes sent on it, and within its second.
   */
  | { readonly closed: Conn; readonly withinMs?: readonly [number, number] }
  /** Still open and served: PINGREQ answered by PINGRESP, nothing else in between. */
  | { readonly alive: Conn }
  /** We drop the connection without DISCONNECT (as a crashed client would). */
  | { readonly drop: Conn }
  /** Let time pass (keepalive rows only). */
  | { readonly waitMs: number };

export interface Row {
  /** Spec clause, e.g. "MQTT-3.1.3-8" (or "§4.7.1.2" for a non-normative rule). */
  readonly clause: string;
  readonly title: string;
  readonly steps: readonly Step[];
  /** Broker options for this row (default `startBroker({ port: 0 })`). */
  readonly broker?: Record<string, unknown>;
}

const TIMEOUT_MS = 2000;

class Connection {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  last = Buffer.alloc(0);
  /**
   * When bytes were last written to it (or it was opened): before the broker can have read them,
   * so no later than any timer the broker starts on them.
   */
  sentAt: number;
  #waiter: (() => void) | undefined;

  constructor(socket: Socket, openedAt: number) {
    this.socket = socket;
    this.sentAt = openedAt;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Resolves when `ready()` holds, or rejects after the timeout with `what`. */
  write(bytes: Buffer): void {
    this.sentAt = Date.now();
    this.socket.write(bytes);
  }

  async until(ready: () => boolean, what: () => string, ms = TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(what());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  get buffered(): Buffer {
    return this.#buffer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  take(n: number): Buffer {
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }
}

function show(b: Buffer): string {
  if (b.length === 0) return "nothing";
  const spaced = b
    .subarray(0, 48)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1 ");
  return b.length > 48 ? `${spaced} … (${b.length} bytes)` : spaced;
}

function matches(pattern: string[], bytes: Buffer): boolean {
  return pattern.every((p, i) => p === "??" || Number.parseInt(p, 16) === bytes[i]);
}

function open(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const openedAt = Date.now();
    const s = connectTcp(port, "127.0.0.1", () => {
      s.off("error", reject);
      s.setNoDelay(true);
      resolve(new Connection(s, openedAt));
    });
    s.once("error", reject);
  });
}

export async function runRow(row: Row, port: number): Promise<void> {
  const conns = new Map<Conn, Connection>();
  const get = (name: Conn): Connection => {
    const c = conns.get(name);
    if (c === undefined) throw new Error(`connection ${name} was not opened`);
    return c;
  };
  try {
    for (const [n, step] of row.steps.entries()) {
      const at = `step ${n + 1}`;
      if ("open" in step) {
        conns.set(step.open, await open(port));
      } else if ("send" in step) {
        const c = get(step.send);
        c.write(typeof step.bytes === "function" ? step.bytes(c.last) : step.bytes);
      } else if ("expect" in step) {
        const c = get(step.expect);
        const pattern = step.hex.trim().split(/\s+/);
        await c.until(
          () => c.buffered.length >= pattern.length || c.closed,
          () => `${at}: ${step.expect} expected ${step.hex}, got ${show(c.buffered)} (still open)`,
        );
        const got = c.buffered.subarray(0, pattern.length);
        if (got.length < pattern.length || !matches(pattern, got)) {
          throw new Error(
            `${at}: ${step.expect} expected ${step.hex}, got ${show(c.buffered)}${c.closed ? " and closed" : ""}`,
          );
        }
        c.last = Buffer.from(c.take(pattern.length));
      } else if ("closed" in step) {
        const c = get(step.closed);
        const [min, max] = step.withinMs ?? [0, TIMEOUT_MS];
        await c.until(
          () => c.closed,
          () => `${at}: ${step.closed} should have been closed, still open (got ${show(c.buffered)})`,
          max,
        );
        // From the last bytes sent, not from this step: the broker's clock (a keepalive's, say) started
        // when it read them, which may be well before a busy host let this step begin.
        const took = Date.now() - c.sentAt;
        if (c.buffered.length > 0)
          throw new Error(`${at}: ${step.closed} got ${show(c.buffered)} before closing`);
        if (took < min)
          throw new Error(
            `${at}: ${step.closed} closed ${took} ms after the last bytes sent, before ${min} ms`,
          );
      } else if ("alive" in step) {
        const c = get(step.alive);
        c.write(Buffer.from([0xc0, 0x00]));
        await c.until(
          () => c.buffered.length >= 2 || c.closed,
          () => `${at}: ${step.alive} got no PINGRESP (got ${show(c.buffered)})`,
        );
        const got = c.take(2);
        if (got[0] !== 0xd0 || got[1] !== 0x00) {
          throw new Error(
            `${at}: ${step.alive} expected PINGRESP d0 00, got ${show(got)}${c.closed ? " and closed" : ""}`,
          );
        }
      } else if ("drop" in step) {
        const c = get(step.drop);
        c.socket.destroy();
        await c.until(
          () => c.closed,
          () => `${at}: ${step.drop} did not close`,
        );
      } else {
        await new Promise((resolve) => setTimeout(resolve, step.waitMs));
      }
    }
  } finally {
    for (const c of conns.values()) c.socket.destroy();
  }
}
