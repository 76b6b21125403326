/**
 * A raw HTTP/1.1 connection to a server under test, for what a browser or fetch would hide: every
 * byte the server sent, the statuses in order, and whether the server closed the connection.
 */
import { connect, type Socket } from "node:net";
import { expect } from "vitest";

export interface RawClient {
  readonly s: Socket;
  readonly got: { text: string; ended: boolean };
  /** The statuses answered so far, in order. */
  readonly statuses: () => (string | undefined)[];
  /** Sends one request and waits for its answer's status. */
  readonly send: (request: string) => Promise<string | undefined>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const s: Socket = await new Promise((resolve, reject) => {
    const c = connect(port, "127.0.0.1", () => resolve(c));
    c.once("error", reject);
  });
  const got = { text: "", ended: false };
  s.setEncoding("latin1");
  s.on("data", (d: string) => {
    got.text += d;
  });
  s.on("error", () => {});
  s.on("close", () => {
    got.ended = true;
  });
  const statuses = () => [...got.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  const send = async (r: string) => {
    const n = statuses().length + 1;
    s.write(r);
    await expect.poll(() => statuses().length, { timeout: 20_000 }).toBe(n);
    return statuses()[n - 1];
  };
  return { s, got, statuses, send };
}
