/**
 * LevelDB calls held as a frozen file system holds its write(): a `put` or an `open` of the store
 * waits, neither finishing nor failing, until thawed. The broker's frozen-disk tests share it.
 */
import { ClassicLevel } from "classic-level";

type Held = "put" | "open";
const real = { put: ClassicLevel.prototype.put, open: ClassicLevel.prototype.open };
const thaws: (() => void)[] = [];

export interface Frozen {
  /** Lets every held call go on, and the ones after it through at once. */
  readonly thaw: () => void;
  /** How many calls wait. */
  readonly held: () => number;
}

/** Holds every LevelDB `method` call from now until `thaw()`. */
export function freezeLevel(method: Held): Frozen {
  const held: (() => void)[] = [];
  let frozen = true;
  const original = real[method] as (...a: unknown[]) => Promise<unknown>;
  (ClassicLevel.prototype as unknown as Record<Held, unknown>)[method] = function (
    this: unknown,
    ...args: unknown[]
  ) {
    const call = () => original.apply(this, args);
    if (!frozen) return call();
    return new Promise((resolve, reject) => held.push(() => call().then(resolve, reject)));
  };
  const thaw = () => {
    frozen = false;
    for (const go of held.splice(0)) go();
  };
  thaws.push(thaw);
  return { thaw, held: () => held.length };
}

/** Thaws whatever is held and puts LevelDB's own methods back: each test's afterEach. */
export function unfreezeLevel(): void {
  for (const thaw of thaws.splice(0)) thaw();
  ClassicLevel.prototype.put = real.put;
  ClassicLevel.prototype.open = real.open;
}
