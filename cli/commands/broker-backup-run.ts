/**
 * What `twinfleet broker backup` runs (declared in cli/commands/broker.ts): a running broker's store
 * taken through its --http (`GET /backup`, web/broker-backup-route.ts) and written as a new LevelDB
 * store at --out (cli/store-backup-write.ts), which `twinfleet broker --data OUT` opens as it is.
 * --http and the token are the ones the broker was started with. Says what it wrote: a JSON line on
 * stdout, a sentence on stderr. A stop (Ctrl-C, SIGTERM) leaves nothing at --out (exit 130). A
 * broker that sends nothing, or trickles, for --idle-timeout (stopped, paused, cut off by the
 * network: cli/commands/backup-idle.ts) is given up, named with its address and how long nothing
 * came (exit 1, nothing at --out); a refusal is read to REFUSAL_MAX_BYTES at most.
 */
import { RealScheduler, type Scheduler } from "../../node/scheduler.js";
import { shown, shownPath } from "../../protocol/shown.js";
import { readBounded, shownBytes } from "../../view/bounded-body.js";
import { resolveHttpToken, wholeFlagIn } from "../connection.js";
import { takeHangUps, takeStops } from "../early-hang-ups.js";
import { UsageError } from "../errors.js";
import { parseHttpAddress } from "../http.js";
import type { CliIO } from "../main.js";
import { BackupNotWritten, checkBackupTarget, type OpenTarget, writeBackup } from "../store-backup-write.js";
import { IdleWatch } from "./backup-idle.js";

export interface BackupFlags {
  readonly out?: string;
  readonly idleTimeout?: string;
}

/** What a run may be given instead of the host's: the store it writes to, the clock it waits on. */
export interface BackupDeps {
  readonly open?: OpenTarget;
  readonly scheduler?: Scheduler;
}

/**
 * How long the broker may send nothing before the backup is given up, ms (--idle-timeout): a
 * broker reads its snapshot in batches of some hundred kB, each in well under a second; a minute
 * of nothing is a broker stopped or a network that dropped the connection without a word.
 */
export const BACKUP_IDLE_MS = 60_000;
/** The most of a refusal (a non-200 answer) read, bytes: a broker's is a line of problem+json. */
export const REFUSAL_MAX_BYTES = 64 * 1024;

/** The broker's flags a backup takes: where its --http is, and its token. */
const TAKEN = new Set(["http", "httpToken", "httpTokenFile"]);
const CUT_SHORT = 130;

/** The broker's --http as given to the backup: [HOST:]PORT as the broker took it, or http(s)://HOST:PORT. */
export function backupOrigin(raw: string | undefined): string {
  if (raw === undefined)
    throw new UsageError(
      "needs --http: the address of the running broker's --http (e.g. --http 127.0.0.1:9100 or --http http://lab-pi:9100)",
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(`--http: ${shown(raw)} is not a URL; give http://HOST:PORT or HOST:PORT`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new UsageError(`--http: expected http:// or https:// (the broker's --http), got ${shown(raw)}`);
    if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.username !== "")
      throw new UsageError(
        `--http: give the broker's address alone, http://HOST:PORT (its token with --http-token), got ${shown(raw)}`,
      );
    return url.origin;
  }
  const { host, port } = parseHttpAddress(raw);
  if (port === 0) throw new UsageError("--http: port 0 names no broker: give the port its --http listens on");
  const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}`;
}

/** Takes a backup of the broker at the parent command's --http into `flags.out`. */
export async function runBrokerBackup(
  flags: BackupFlags,
  brokerFlags: Record<string, unknown>,
  io: CliIO,
  deps: BackupDeps = {},
): Promise<void> {
  const other = Object.keys(brokerFlags).find((k) => brokerFlags[k] !== undefined && !TAKEN.has(k));
  if (other !== undefined)
    throw new UsageError(
      `takes --http, --http-token, --http-token-file and --out; --${other.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for \`twinfleet broker\``,
    );
  const origin = backupOrigin(brokerFlags.http as string | undefined);
  const token = resolveHttpToken(
    brokerFlags as { httpToken?: string; httpTokenFile?: string },
    io.env ?? process.env,
  );
  io.secret?.(token);
  const idleMs =
    flags.idleTimeout === undefined
      ? BACKUP_IDLE_MS
      : wholeFlagIn(
          "--idle-timeout",
          flags.idleTimeout,
          100,
          2 ** 31 - 1,
          "a whole number of milliseconds, at least 100",
        );
  const out = flags.out ?? "";
  checkBackupTarget(out);

  const stop = new AbortController();
  const onStop = () => stop.abort();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onStop);
  if (takeStops().length > 0 || takeHangUps() > 0) stop.abort();
  const clock = deps.scheduler ?? new RealScheduler();
  const started = clock.now();
  const idle = new IdleWatch(clock, idleMs, origin, io.stderr);
  const signal = AbortSignal.any([stop.signal, idle.signal]);
  try {
    const response = await ask(origin, token, signal, idle);
    const written = await writeBackup(body(response, idle), out, deps.open);
    for (const left of written.leftovers)
      io.stderr(
        `twinfleet broker backup: removed ${left} beside ${shownPath(out)}: the partial copy of an earlier backup of it that was killed (its process is gone)\n`,
      );
    const seconds = Math.round(clock.now() - started) / 1000;
    io.stdout(`${JSON.stringify({ backup: written.out, from: origin, ...summaryOf(written), seconds })}\n`);
    io.stderr(
      `twinfleet broker backup: ${shownPath(out)} written from ${origin} in ${seconds.toFixed(1)} s: ${written.keys} keys, ${written.bytes} bytes (${written.retained} retained messages, ${written.sessions} persistent sessions); a broker opens it as it is: twinfleet broker --data ${shownPath(out)}\n`,
    );
  } catch (err) {
    if (stop.signal.aborted) {
      io.stderr(`twinfleet broker backup: stopped; nothing was written at ${shownPath(out)}\n`);
      io.exit?.(CUT_SHORT);
      return;
    }
    throw err instanceof BackupNotWritten
      ? err
      : new Error(`${(err as Error).message}; nothing was written at ${shownPath(out)}`);
  } finally {
    idle.cancel();
    for (const s of signals) process.off(s, onStop);
  }
}

function summaryOf(w: { keys: number; bytes: number; retained: number; sessions: number }) {
  return { keys: w.keys, bytes: w.bytes, retained: w.retained, sessions: w.sessions };
}

/** The stream of the answer, its silences watched (a chunk's writing is not one). */
async function* body(response: Response, idle: IdleWatch): AsyncGenerator<Uint8Array> {
  if (response.body === null) return;
  const chunks = (response.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      idle.wait();
      const next = await chunks.next();
      if (next.done === true) {
        done = true;
        return;
      }
      idle.came(next.value.byteLength);
      yield next.value;
    }
  } catch (err) {
    done = true;
    throw idle.error ?? err;
  } finally {
    // Left half-way (a garbled stream, a full disk): the connection is let go.
    if (!done) await chunks.return?.().catch(() => {});
  }
}

/** The broker's answer to GET /backup, or an error saying why there is none. */
async function ask(
  origin: string,
  token: string | undefined,
  signal: AbortSignal,
  idle: IdleWatch,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let r: Response;
  try {
    r = await fetch(`${origin}/backup`, { headers, signal });
  } catch (e) {
    if (idle.error !== undefined) throw idle.error;
    if (signal.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why =
      cause?.code === "ECONNREFUSED"
        ? "connection refused (is `twinfleet broker --http` listening there?)"
        : (cause?.message ?? (e as Error).message);
    throw new Error(`cannot reach the broker at ${origin}: ${why}`);
  }
  idle.came(0);
  if (r.status === 200) return r;
  idle.wait();
  const read = await readBounded(r, REFUSAL_MAX_BYTES);
  idle.came(0);
  if (idle.error !== undefined) throw idle.error;
  if (read.kind === "over")
    throw new Error(
      `the server at ${origin} answered ${r.status} with more than ${shownBytes(REFUSAL_MAX_BYTES)}, where a broker's refusal is a line: the rest was not read (is --http a twinfleet broker's --http?)`,
    );
  const text = read.kind === "text" ? read.text : "";
  let detail = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { detail?: unknown };
    if (typeof parsed.detail === "string") detail = parsed.detail;
  } catch {
    // not problem+json: the text as it came
  }
  if (r.status === 401 || r.status === 403)
    throw new Error(
      `the broker at ${origin} refused the backup (${r.status}: ${detail}): give the token it was started with (--http-token, --http-token-file or TWINFLEET_HTTP_TOKEN)`,
    );
  if (r.status === 404)
    throw new Error(
      `the server at ${origin} has no /backup (404: ${detail}): is it a twinfleet broker's --http, of a build that takes backups?`,
    );
  throw new Error(`the broker at ${origin} refused the backup (${r.status}): ${detail}`);
}
