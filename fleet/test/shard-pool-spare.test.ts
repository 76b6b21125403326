/**
 * A pool thread that fails as it starts, on a pool given in place of piscina's (which cannot be made
 * to give every shard a thread and then fail a spare one): with no shard waiting it is told as a
 * spare thread's failure, named with no shard (it was `worker N`, N one past the last shard's
 * thread, worker-0 on); with a shard waiting in the queue, that shard dies of it and nothing more.
 */
import { expect, it } from "vitest";
import { loadProfile } from "../../node/profile.js";
import { NodeId } from "../../protocol/index.js";
import type { ShardReport } from "../../sim/messages.js";
import { routeShardReports, ShardPool, type ThreadPool } from "../shards.js";

/** A pool of `threads` threads whose tasks run until told: as many run as there are threads, the rest queue. */
class HandPool implements ThreadPool {
  private readonly tasks: { signal: AbortSignal; end: (e: Error) => void }[] = [];
  private failed: ((e: Error) => void) | undefined;
  constructor(private readonly threads: number) {}
  run(_task: unknown, options: { signal: AbortSignal }): Promise<unknown> {
    return new Promise((_resolve, reject) => {
      this.tasks.push({ signal: options.signal, end: reject });
      options.signal.addEventListener("abort", () => reject(new Error("The task has been aborted")));
    });
  }
  on(_event: "error", listener: (e: Error) => void): void {
    this.failed = listener;
  }
  get queueSize(): number {
    return Math.max(0, this.tasks.filter((t) => !t.signal.aborted).length - this.threads);
  }
  /** Task `k`'s thread dies. */
  end(k: number, e: Error): void {
    this.tasks[k]?.end(e);
  }
  /** A thread with no task yet fails as it starts. */
  fail(e: Error): void {
    this.failed?.(e);
  }
  async destroy(): Promise<void> {}
}

const common = {
  brokerHost: "127.0.0.1",
  brokerPort: 1,
  prefix: "tf-pool-spare",
  profile: loadProfile("ideal"),
  seed: "pool-spare",
  loss: { kind: "none" } as const,
  timeOrigin: 0,
};

const emfile = () =>
  Object.assign(new Error("EMFILE: too many open files, open '/opt/x.js'"), { code: "EMFILE" });

/** `shards` shards on a pool of `threads` threads; what was told and which shards died. */
function pool(threads: number, shards: number) {
  const hand = new HandPool(threads);
  const lines: string[] = [];
  const reports: ShardReport[] = [];
  const died: { shard: number; message: string; nodes: number }[] = [];
  const route = routeShardReports({ events: () => {}, error: (t) => lines.push(t) });
  const p = new ShardPool(
    threads,
    (r) => {
      reports.push(r);
      route(r);
    },
    undefined,
    (shard, e, nodes) => died.push({ shard, message: e.message, nodes }),
    () => hand,
  );
  const ids = Array.from({ length: shards * 2 }, (_, i) => NodeId(`n-${i + 1}`));
  p.launch(ids, shards, 0, 0, common);
  return { hand, lines, reports, died, p };
}

const settled = () => new Promise((r) => setImmediate(r));

it("a spare thread that fails as it starts, no shard waiting for it, is told as no shard's", async () => {
  const { hand, lines, reports, died, p } = pool(2, 2);
  hand.fail(emfile());
  await settled();
  expect(died).toEqual([]);
  expect(reports.map((r) => (r.type === "error" ? r.shard : "not an error"))).toEqual([undefined]);
  expect(lines).toEqual([
    "a spare worker thread (none of the 2 shards' own) could not start: EMFILE: too many open files, open '/opt/x.js'; the process's open-files limit is too low: raise it before starting (as root `ulimit -n`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container; docs/cli.md, \"The open files a command needs to start\")",
  ]);
  // It is told once: the pool starts no more threads.
  hand.fail(emfile());
  await settled();
  expect(lines).toHaveLength(1);
  await p.destroy();
});

it("a shard waiting for a thread dies of the thread's failure, and no spare's line is told", async () => {
  const { hand, lines, died, p } = pool(1, 2);
  hand.fail(emfile());
  await settled();
  expect(died).toEqual([{ shard: 1, message: emfile().message, nodes: 2 }]);
  expect(lines).toEqual([]);
  await p.destroy();
});

it("a spare thread's failure after a shard's death (the run ending there) is not told again", async () => {
  const { hand, lines, died, p } = pool(2, 2);
  // Shard 0's task ends before finish(): its thread died.
  hand.end(0, new Error("out of memory"));
  await settled();
  expect(died.map((d) => d.shard)).toEqual([0]);
  hand.fail(emfile());
  await settled();
  expect(lines).toEqual([]);
  await p.destroy();
});
