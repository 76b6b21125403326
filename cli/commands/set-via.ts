/**
 * `twinfleet set NODE on|off --via URL`: the set through a running twins service's REST API
 * (`PUT /api/nodes/NODE/state`, docs/web.md) instead of a short-lived connection of its own. The
 * service keeps a set for an offline node until the node returns (`202`, `deferred`), which a
 * one-shot set cannot: nothing of it stays once it ends. Also what the one-shot set's refusal of an
 * offline node names.
 */
import { sleep } from "../../node/scheduler.js";
import { shown } from "../../protocol/shown.js";
import { wallScheduler } from "../../twins/index.js";
import { readBounded, shownBytes } from "../../view/bounded-body.js";
import { resolveHttpToken } from "../connection.js";
import { UsageError } from "../errors.js";
import type { CliIO } from "../main.js";

export interface ViaFlags {
  readonly via: string;
  readonly httpToken?: string;
  readonly httpTokenFile?: string;
}

/** The twins service's web address `--via` names: http:// or https://, host and port, no path. */
export function viaOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `--via: expected the twins service's web address, http://host:port, got ${shown(raw)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(
      `--via: expected an http:// or https:// address (the twins service's --http), got ${shown(raw)}`,
    );
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.username !== "")
    throw new UsageError(
      `--via: give the service's address alone, http://host:port (its token with --http-token), got ${shown(raw)}`,
    );
  return url.origin;
}

/** The bearer token: --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN, as the service takes it. */
function tokenOf(flags: ViaFlags, io: CliIO): string | undefined {
  const token = resolveHttpToken(flags, io.env ?? process.env);
  io.secret?.(token);
  return token;
}

/**
 * The most a twins service's answer to a set or a node's read may hold, bytes: far past a node's
 * detail with a whole fleet following it. A longer one is not the service's (a wrong URL, a proxy's
 * page, a peer sending without end): the rest is not read, and the command says so.
 */
export const VIA_MAX_BYTES = 16 * 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(origin: string, path: string, token: string | undefined, init: RequestInit, ms: number) {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let r: Response;
  try {
    r = await fetch(`${origin}${path}`, { ...init, headers, signal: AbortSignal.timeout(ms) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (e as Error).name === "TimeoutError"
        ? `no answer within ${ms / 1000} s`
        : cause?.code === "ECONNREFUSED"
          ? "connection refused (is `twinfleet twins --http` running there?)"
          : cause?.message === "bad port"
            ? "its port is one HTTP clients refuse to use (the fetch standard's blocked ports): serve the service's --http on another"
            : (cause?.message ?? (e as Error).message);
    throw new Error(`cannot reach the twins service at ${origin}: ${why}`);
  }
  const read = await readBounded(r, VIA_MAX_BYTES);
  const asked = `${init.method ?? "GET"} ${path}`;
  if (read.kind === "over")
    throw new Error(
      `the twins service at ${origin} answered ${asked} (${r.status}) with more than ${shownBytes(VIA_MAX_BYTES)}, more than any node's answer holds: the rest was not read; is --via the twins service's --http address (not a proxy's or another server's)?`,
    );
  if (read.kind === "cut") {
    const e = read.error as Error;
    throw new Error(
      `the twins service at ${origin} answered ${asked} (${r.status}) and ${e.name === "TimeoutError" ? `did not finish its answer within ${ms / 1000} s` : `its answer was cut (${e.message})`}: ${read.bytes} bytes by then`,
    );
  }
  const text = read.text;
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { detail: text.slice(0, 200) };
  }
  return { status: r.status, body } satisfies Answer;
}

/** A refusal of the service, said with what to do. */
function refused(origin: string, node: string, a: Answer): Error {
  const detail = typeof a.body.detail === "string" ? a.body.detail : JSON.stringify(a.body);
  if (a.status === 401 || a.status === 403)
    return new Error(
      `the twins service at ${origin} refused the set (${a.status}): give its token (the one it was started with, or a generated one from its \`web:\` line on a terminal) with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN`,
    );
  if (a.status === 404) return new Error(`the twins service at ${origin} has no node "${node}" (404)`);
  return new Error(`the twins service at ${origin} refused the set (${a.status}): ${detail}`);
}

/**
 * Sets `node` through the service; prints what it answered. Offline: `202`, kept until the node
 * returns (said on stderr, exit 0). Online: sent, and confirmed once the service no longer holds it
 * pending (the node reported the new state) within `waitMs`.
 */
export async function runSetVia(node: string, on: boolean, flags: ViaFlags, waitMs: number, io: CliIO) {
  const origin = viaOrigin(flags.via);
  const token = tokenOf(flags, io);
  const path = `/api/nodes/${encodeURIComponent(node)}`;
  const bound = Math.max(10_000, waitMs);
  const a = await call(
    origin,
    `${path}/state`,
    token,
    { method: "PUT", body: JSON.stringify({ on }) },
    bound,
  );
  if (a.status === 202) {
    const deferred = String(a.body.deferred ?? "");
    io.stdout(`${JSON.stringify({ node, on, via: origin, accepted: true, deferred, confirmed: false })}\n`);
    io.stderr(`twinfleet set: ${deferred}: the twins service at ${origin} keeps it\n`);
    return;
  }
  if (a.status !== 200) throw refused(origin, node, a);
  const pending = (b: Record<string, unknown>) =>
    (b.desired as { pendingSet?: unknown } | undefined)?.pendingSet !== undefined;
  let confirmed = !pending(a.body);
  // Until --wait has gone by on the clock (each look's own round trip counted in it).
  const until = wallScheduler.now() + waitMs;
  while (!confirmed && wallScheduler.now() < until) {
    await sleep(wallScheduler, 200);
    const now = await call(origin, path, token, { method: "GET" }, bound);
    confirmed = now.status === 200 && !pending(now.body);
  }
  io.stdout(`${JSON.stringify({ node, on, via: origin, accepted: true, confirmed })}\n`);
  if (!confirmed) io.stderr(`twinfleet set: ${node} has not reported the new state yet\n`);
}
