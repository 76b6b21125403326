/**
 * The fuzz soak's healthy client in a process of its own (forked with an IPC channel), so that the
 * fuzz driver's work does not add to the round trips it measures. Publishes once per `intervalMs`
 * (each round trip on its own, not waiting for the previous) and sends the samples to its parent
 * once a second; a message not back within 5 s is counted lost. Stops on the parent's "stop".
 *   argv: <broker url> <interval ms>
 */
import { HealthyClient } from "../../broker/test/fuzz/healthy.js";

/** Sent once a second: round trips completed since the last report, in ms, and losses. */
export interface HealthyReport {
  readonly rtts: number[];
  /** Wall-clock time (Date.now()) each round trip was sent, in the order of `rtts`. */
  readonly sentAt: number[];
  readonly lost: number;
  readonly errors: string[];
}

const send = (m: HealthyReport | "ready") => process.send?.(m);

async function main(url: string, intervalMs: number): Promise<void> {
  const client = await HealthyClient.connect(url);
  let rtts: number[] = [];
  let sentAt: number[] = [];
  let lost = 0;
  let errors: string[] = [];
  const tick = setInterval(() => {
    const at = Date.now();
    client.roundTrip(5000).then(
      (ms) => {
        rtts.push(ms);
        sentAt.push(at);
      },
      (err: Error) => {
        lost++;
        if (errors.length < 5) errors.push(err.message);
      },
    );
  }, intervalMs);
  const flush = () => {
    send({ rtts, sentAt, lost, errors });
    rtts = [];
    sentAt = [];
    lost = 0;
    errors = [];
  };
  const report = setInterval(flush, 1000);
  send("ready");
  process.once("message", () => {
    clearInterval(tick);
    clearInterval(report);
    flush();
    void client.close().then(() => process.disconnect());
  });
}

if (process.send !== undefined) {
  const [url, interval] = process.argv.slice(2);
  if (url === undefined) throw new Error("healthy-process: no broker URL given");
  await main(url, Number(interval ?? 100));
}
