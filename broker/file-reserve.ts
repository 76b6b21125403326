/**
 * The files a standalone broker keeps for itself at its open-files limit (`ulimit -n`). Every client
 * is a socket; at the limit the operating system closed every new connection unanswered, the broker's
 * own included: a scrape of `/metrics` or `/healthz` on a new connection, a file LevelDB opens to
 * compact, a log file. So the MQTT, TLS and WebSocket listeners stop keeping clients once their
 * sockets and the files in other use reach the limit less a reserve: a connection past it is
 * accepted and closed at once (which frees its descriptor at once, as the kernel's backlog would not
 * be drained otherwise), counted as refused (`open-files`). The files in other use are counted from
 * /proc/self/fd as the accepted sockets near the line (at most once a second) and at each look of the
 * open-files watch; elsewhere than Linux nothing is refused. Times come from the injected Scheduler.
 */
import { countOpenFiles, type OpenFiles, readOpenFiles } from "../node/open-files.js";
import type { Scheduler } from "../node/scheduler.js";

/** How often, at most, a connection near the line makes the files be counted again. */
const RECOUNT_MS = 1_000;

/**
 * The files kept for the broker's own needs by default: a sixteenth of the limit, at least 16 and at
 * most 256 (a few scrapes, the store's compaction, the count itself, the event loop's spare).
 */
export function defaultReserve(limit: number): number {
  return Math.max(16, Math.min(256, Math.floor(limit / 16)));
}

export interface FileReaders {
  files(): OpenFiles | undefined;
  count(): number | "full" | undefined;
}

const PROC: FileReaders = { files: readOpenFiles, count: countOpenFiles };

/** What the open-files watch and `/metrics` read of the reserve. */
export interface ReserveState {
  /** The process's limit (`ulimit -n`). */
  readonly limit: number;
  /** Files kept free for the broker's own needs. */
  readonly reserve: number;
  /** Connections closed at once since the start because the limit less the reserve was reached. */
  readonly refused: number;
  /** The listeners' sockets are at the line: the next connection is refused. */
  readonly full: boolean;
}

export class FileReserve implements ReserveState {
  readonly limit: number;
  readonly reserve: number;
  refused = 0;
  /** Files open besides the listeners' sockets, at the last count. */
  private others = 0;
  private countedAt = Number.NEGATIVE_INFINITY;

  private constructor(
    files: OpenFiles,
    reserve: number,
    /** The listeners' sockets open now (TLS handshakes and WebSocket upgrades under way included). */
    private readonly sockets: () => number,
    private readonly clock: Scheduler,
    private readonly read: FileReaders,
  ) {
    this.limit = files.limit;
    this.reserve = reserve;
    // Counted before the listeners opened: the first connection near the line counts again.
    this.others = Math.max(0, files.open - sockets());
  }

  /** The reserve of this process, or undefined where there is no count or no finite limit. */
  static open(
    sockets: () => number,
    clock: Scheduler,
    reserve?: number,
    read: FileReaders = PROC,
  ): FileReserve | undefined {
    const files = read.files();
    if (!files || !Number.isFinite(files.limit)) return undefined;
    return new FileReserve(files, reserve ?? defaultReserve(files.limit), sockets, clock, read);
  }

  /** The sockets the listeners may hold now at most. */
  get room(): number {
    return this.limit - this.reserve - this.others;
  }

  get full(): boolean {
    return this.sockets() + 1 >= this.room;
  }

  /**
   * Whether a socket just accepted may be kept; false counts it as refused (the caller closes it).
   * Counts the files again when the sockets come within the reserve of the line.
   */
  admit(): boolean {
    const held = this.sockets();
    if (held + this.reserve < this.room) return true;
    if (this.clock.now() - this.countedAt >= RECOUNT_MS) this.recount();
    if (held < this.room) return true;
    this.refused += 1;
    return false;
  }

  /**
   * Counts the files in other use again (a connection near the line), or takes the count `n` the
   * open-files watch has just read at its look.
   */
  recount(n: number | "full" | undefined = this.read.count()): void {
    if (n === undefined) return;
    this.countedAt = this.clock.now();
    // Not even /proc/self/fd could be opened: the limit is reached, whoever holds the files.
    const open = n === "full" ? this.limit : n;
    this.others = Math.max(0, open - this.sockets());
  }
}
