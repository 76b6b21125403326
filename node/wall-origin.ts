/**
 * The date at which `performance.now()` reads 0, found from the wall clock itself. Node's own
 * `performance.timeOrigin` reads the monotonic clock and the wall clock one after the other as the
 * process (or thread) starts, and a thread held off its core between the two reads puts it out by as
 * long: 4.2 ms for one of 60 processes started on this 2-core host with both cores busy, so two
 * processes on one host disagreed by milliseconds on what time it was (shard reports' clock offsets).
 * Here the wall clock's millisecond is watched until it turns over, `edges` times: each turn gives the
 * origin to within the loop's few microseconds, unless the thread was held off its core in that
 * loop; the median of the turns leaves such a one out. Costs up to `edges` ms of spinning, once.
 */

/** `date`: ms since the Unix epoch in whole ms (Date.now); `perf`: the monotonic ms (performance.now). */
export function wallOrigin(date: () => number, perf: () => number, edges = 5): number {
  const found: number[] = [];
  for (let i = 0; i < edges; i++) {
    const start = date();
    let d = start;
    let p = perf();
    while (d === start) {
      p = perf();
      d = date();
    }
    found.push(d - p);
  }
  found.sort((a, b) => a - b);
  return found[Math.floor(found.length / 2)] as number;
}
