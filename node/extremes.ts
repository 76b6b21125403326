/**
 * The least and greatest of many numbers, by a loop: `Math.max(...values)` passes each value as an
 * argument and throws `RangeError: Maximum call stack size exceeded` past about 100,000 of them (a
 * merged report's registration times of a 150,000-node fleet, a put-back's writes awaited).
 */

/** The greatest of `values`; `empty` when there are none. */
export function maxOf(values: Iterable<number>, empty = Number.NEGATIVE_INFINITY): number {
  let most: number | undefined;
  for (const v of values) if (most === undefined || v > most) most = v;
  return most ?? empty;
}

/** The least of `values`; `empty` when there are none. */
export function minOf(values: Iterable<number>, empty = Number.POSITIVE_INFINITY): number {
  let least: number | undefined;
  for (const v of values) if (least === undefined || v < least) least = v;
  return least ?? empty;
}
