/**
 * For the tests of a frozen broker on a stepped clock: wait for real I/O to land (a socket's bytes,
 * an echo through the broker) before the next step.
 */
import { expect } from "vitest";

/** Resolves once `cond` holds (real I/O landing), checked every 5 ms; rejects after `timeoutMs`. */
export function when(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  return expect.poll(cond, { timeout: timeoutMs, interval: 5 }).toBe(true) as unknown as Promise<void>;
}

/**
 * One 500 ms step of a probe's clock through `proxy`: the probe goes out, and its echo comes back
 * through the broker before the next step.
 */
export async function answeredStep(
  proxy: { downChunks(): number },
  sched: { advance(ms: number): void },
): Promise<void> {
  const before = proxy.downChunks();
  sched.advance(500);
  await when(() => proxy.downChunks() > before);
  await new Promise((resolve) => setImmediate(resolve));
}
