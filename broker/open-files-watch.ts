/**
 * A standalone broker's open files against its limit (`ulimit -n`). Each client is a socket, the
 * LevelDB store holds files of its own, and at the limit the operating system closes each new
 * connection unanswered: the clients see their connection dropped before CONNACK and the broker
 * hears of nothing. So it looks: every `everyMs` (5 s) it reads the count (node/open-files.ts) and
 * logs a WARN when 90 % of the limit is in use, an ERROR when it is reached (new connections are being
 * refused), and one line when it is back under; a limit that leaves room for few clients is said at
 * start. With the broker's reserve (broker/file-reserve.ts) the limit is reached when connections are
 * refused for it: the ERROR says so, what they are counted as and what to raise; each look's count is the
 * reserve's count of the files in other use too. Times come from the injected Scheduler.
 */
import type { Logger } from "pino";
import { countOpenFiles, type OpenFiles, readOpenFiles } from "../node/open-files.js";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { ReserveState } from "./file-reserve.js";

export interface OpenFilesWatchOptions {
  /** How often the count is read; default 5 s. */
  readonly everyMs?: number;
  /** The share of the limit in use that is worth a warning; default 0.9. */
  readonly nearShare?: number;
  /** The files the broker keeps for itself; the OS's limit alone unless given. */
  readonly reserve?: ReserveState & { recount(n: number | "full"): void };
}

export const OPEN_FILES_EVERY_MS = 5_000;
/** Fewer free files than this at start is said at once (a fleet of a few hundred boards needs more). */
export const FEW_FREE_FILES = 1_000;
/**
 * Files short of the limit that count as reached: the event loop keeps one in reserve to close
 * connections it cannot accept, and a store may open one at any time.
 */
const FULL_MARGIN = 4;

type Level = "ok" | "near" | "full";

export class OpenFilesWatch {
  private level: Level = "ok";
  private timer: Timer | undefined;
  /** The limit, read once at start (reading it again needs a file, which the limit may refuse). */
  private files: OpenFiles | undefined;
  private readonly everyMs: number;
  private readonly nearShare: number;
  private readonly reserve: (ReserveState & { recount(n: number | "full"): void }) | undefined;
  /** Connections refused for the reserve at the last look. */
  private refused = 0;

  constructor(
    private readonly clients: () => number,
    private readonly logger: Logger,
    private readonly sched: Scheduler,
    o: OpenFilesWatchOptions = {},
    private readonly read: { files(): OpenFiles | undefined; count(): number | "full" | undefined } = {
      files: readOpenFiles,
      count: countOpenFiles,
    },
  ) {
    this.everyMs = o.everyMs ?? OPEN_FILES_EVERY_MS;
    this.nearShare = o.nearShare ?? 0.9;
    this.reserve = o.reserve;
  }

  /** Says a small limit at once, then checks every `everyMs`; nothing where there is no count. */
  start(): void {
    const f = this.read.files();
    if (!f || !Number.isFinite(f.limit)) return;
    this.files = f;
    const kept = this.reserve?.reserve ?? FULL_MARGIN;
    const free = f.limit - f.open;
    if (free < FEW_FREE_FILES) {
      const keeps = this.reserve ? ` (${kept} more are kept for the broker itself)` : "";
      this.logger.warn(
        `this process may open ${f.limit} files (ulimit -n) and ${f.open} are open: room for about ${Math.max(0, free - kept)} more clients${keeps}; ${raise(f)}`,
      );
    }
    this.timer = every(this.sched, this.everyMs, () => this.check());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One look (the timer's; tests call it). */
  check(): void {
    const at = this.files;
    const n = this.read.count();
    if (!at || n === undefined) return;
    const f = { ...at, open: n === "full" ? at.limit : n };
    const r = this.reserve;
    // The count just read: /proc/self/fd is listed once a look, for the reserve too.
    r?.recount(n);
    const refusing = r !== undefined && (r.refused > this.refused || r.full);
    this.refused = r?.refused ?? 0;
    const usable = f.limit - (r?.reserve ?? 0);
    const level: Level =
      refusing || f.open >= f.limit - FULL_MARGIN
        ? "full"
        : f.open >= usable * this.nearShare
          ? "near"
          : "ok";
    if (level === this.level) return;
    const was = this.level;
    this.level = level;
    const clients = this.clients();
    if (level === "full" && r !== undefined && f.open < f.limit - FULL_MARGIN) {
      this.logger.error(
        `the broker has reached its open-files limit less the ${r.reserve} files it keeps for itself (${f.open} of ${f.limit} open, ulimit -n; ${clients} clients connected): it closes every new connection at once, before its CONNECT is read (${r.refused} so far, counted in twinfleet_broker_connections_refused_total{reason="open-files"}), so that /metrics, /healthz, its store and its log keep working; ${raise(f)}`,
      );
    } else if (level === "full") {
      this.logger.error(
        `the broker has reached its open-files limit (${f.open} of ${f.limit}, ulimit -n; ${clients} clients connected): the operating system now closes every new connection unanswered, and nothing else reports it; ${raise(f)}`,
      );
    } else if (level === "near") {
      const at =
        r === undefined
          ? "at the limit new connections are closed unanswered"
          : `past ${usable} (the limit less the ${r.reserve} files kept for the broker itself) new connections are refused`;
      this.logger.warn(
        `the broker has ${f.open} of its ${f.limit} open files in use (ulimit -n; ${clients} clients connected): ${at}; ${raise(f)}`,
      );
    } else if (was !== "ok") {
      this.logger.info(`open files back to ${f.open} of ${f.limit} (${clients} clients connected)`);
    }
  }
}

function raise(f: OpenFiles): string {
  return f.hard > f.limit
    ? `raise it with \`ulimit -n ${f.hard}\` before starting the broker`
    : "raise the limit before starting the broker (as root `ulimit -n 65536`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container)";
}
