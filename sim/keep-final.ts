/**
 * Compacting the checker's long-lived lists (slow pairs, press times) as a long run closes its fault
 * windows: what lies in a final window is kept for good at the front and never looked at again, so a
 * close costs what arrived since the last one, not everything a day of faults kept.
 */

/**
 * Compacts `list` from `final` on: an entry that ended (`until`) before `before` is kept for good if
 * `inWindow` says so, and dropped if not, and one that had not is kept for the next time. Those kept
 * for good join the first `final` (in their order), the others follow (in theirs). Returns how many
 * are kept for good now.
 */
export function keepFinal<T>(
  list: T[],
  final: number,
  until: (e: T) => number,
  inWindow: (e: T, until: number) => boolean,
  before: number,
): number {
  let done = final;
  const later: T[] = [];
  for (let i = final; i < list.length; i++) {
    const e = list[i] as T;
    const u = until(e);
    if (u >= before) later.push(e);
    else if (inWindow(e, u)) list[done++] = e;
  }
  list.length = done;
  for (const e of later) list.push(e);
  return done;
}
