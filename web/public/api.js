// The page's only way to the server: the bearer token (taken once from the URL fragment into
// sessionStorage), JSON requests that turn problem+json answers into ApiError, and the event stream.

const TOKEN_KEY = "twinfleet.token";

/**
 * Moves `#token=…` (alone, or after the route: `#/node/ID&token=…`) from the address into
 * sessionStorage and strips it from the URL and the history.
 */
export function takeToken() {
  const kept = [];
  let found;
  for (const part of location.hash.slice(1).split("&")) {
    if (part.startsWith("token=")) found = decodeURIComponent(part.slice(6));
    else if (part) kept.push(part);
  }
  if (found === undefined) return;
  sessionStorage.setItem(TOKEN_KEY, found);
  history.replaceState(null, "", `${location.pathname}${location.search}#${kept.join("&") || "/"}`);
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** An error answer from the API: the problem+json fields, or what went wrong on the way. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail;
    this.field = problem.field;
  }
}

/**
 * One request. Resolves `{ status, etag, data }`; rejects with ApiError on a non-2xx answer
 * (or status 0 when the server cannot be reached).
 */
export async function api(method, path, { body, ifMatch } = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "Server unreachable", detail: String(e?.message ?? e) });
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, typeof data === "object" && data ? data : { detail: text });
  const etag = res.headers.get("ETag");
  return {
    status: res.status,
    // The tag between its quotes (a proxy's W/ dropped: If-Match compares strong tags), kept as text:
    // it names the server's start as well as the node's version (web/etag.ts).
    etag: etag ? etag.replace(/^W\//, "").replaceAll('"', "") : undefined,
    data,
  };
}

/**
 * The 401's sentence, by where the server says its token is (web/auth.ts, cli/http.ts tokenFrom): in
 * the address it printed, with the operator (chosen), or nowhere (generated on a service whose log is
 * no terminal: no one can write until it is started with a token chosen).
 */
function tokenNeeded(detail) {
  const text = typeof detail === "string" ? detail : "";
  if (text.includes("wrote it nowhere"))
    return "This action needs the access token, and this server's was generated and written nowhere (its log is not a terminal): start it with --http-token-file FILE or TWINFLEET_HTTP_TOKEN, then open its address with #token=YOUR-TOKEN.";
  if (text.includes("the token given with"))
    return "This action needs the access token the server was given (--http-token, --http-token-file or TWINFLEET_HTTP_TOKEN): open its address with #token=YOUR-TOKEN.";
  return "This action needs the access token: open the address twinfleet printed (it ends in #token=…).";
}

/** A sentence for the user about a failed action. */
export function explain(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  if (err.status === 401) return tokenNeeded(err.detail);
  const field = err.field ? ` (${err.field})` : "";
  return `${err.title}${field}${err.detail && err.detail !== err.title ? `: ${err.detail}` : ""}`;
}

/** Seconds before a dropped stream, or one the server could not be reached for, is opened again. */
const RECONNECT_S = 2;
/** The server's ping period until its `hello` tells it (web/events.ts PING_MS), and how many make a silence. */
const DEFAULT_PING_MS = 15_000;
const SILENT_PINGS = 3;

/**
 * The event stream: `handlers[name](data)` for every named event, and `onState(state, detail)` as
 * it changes: "open"; "reconnecting" (a dropped stream, or a server that cannot be reached: opened
 * again in 2 s); "busy" (the server refused it with 503, holding as many streams as it keeps: opened
 * again after its Retry-After); "closed" (any other refusal: opened again in 10 s). Each new
 * connection starts with `hello`. Returns a function that closes the stream for good.
 *
 * A stream that brings nothing for 3 of the server's ping periods (45 s by default; its `hello` tells
 * the period) is taken as lost: a server frozen, or a network that drops packets without closing the
 * connection, left the page showing the fleet as it was, "live", for as long as that lasted. It is
 * then "reconnecting" ("nothing heard from the server for 45 s") and opened again.
 *
 * Read with fetch, not EventSource, so the token goes in the Authorization header as on every other
 * request: an EventSource cannot send headers, and the token in its URL (`?token=`) was written to
 * the access log of every proxy in front of the server. The answer of a refusal is read at once.
 *
 * A hidden tab gives its stream back ("paused") and opens it again when shown, starting with `hello`
 * (the page reads the fleet again then). A browser opens at most 6 connections to one server over
 * HTTP/1.1, its tabs together, and each stream holds one for good: with the page open in 6 tabs,
 * every request of every tab waited for ever (a node page stayed "Loading…", a set was never sent)
 * and a 7th tab never loaded.
 */
export function events(handlers, onState) {
  let ctl;
  let timer;
  let stopped = false;
  let paused = false;
  let pingMs = DEFAULT_PING_MS;
  // Armed from the request until the stream ends; each chunk read sets it again.
  let silence;
  let silent = false;
  const heard = () => {
    clearTimeout(silence);
    silence = setTimeout(() => {
      silent = true;
      ctl?.abort();
    }, SILENT_PINGS * pingMs);
  };
  const again = (state, detail, s) => {
    clearTimeout(silence);
    if (stopped || paused) return;
    if (silent) detail = `nothing heard from the server for ${Math.round((SILENT_PINGS * pingMs) / 1000)} s`;
    silent = false;
    onState(state, detail);
    timer = setTimeout(open, s * 1000);
  };
  const own = {
    ...handlers,
    hello: (d) => {
      if (Number.isFinite(d?.pingMs) && d.pingMs > 0) pingMs = d.pingMs;
      heard();
      handlers.hello?.(d);
    },
  };
  const open = async () => {
    if (hidden()) return pause();
    ctl = new AbortController();
    heard();
    const headers = { Accept: "text/event-stream" };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    let res;
    try {
      res = await fetch("api/events", { headers, signal: ctl.signal, cache: "no-store" });
    } catch (e) {
      return again("reconnecting", `the server cannot be reached: ${e?.message ?? e}`, RECONNECT_S);
    }
    if (!res.ok || !/^text\/event-stream/.test(res.headers.get("Content-Type") ?? "")) {
      const { state, detail, retryS } = await refusal(res);
      return again(state, detail, retryS);
    }
    if (stopped || paused) return ctl.abort();
    onState("open");
    try {
      await readFrames(res.body, own, heard);
    } catch {
      // dropped (the server went, a proxy cut it, or this page closed it)
    }
    again("reconnecting", "the event stream was cut", RECONNECT_S);
  };
  const pause = () => {
    if (stopped || paused) return;
    paused = true;
    clearTimeout(timer);
    clearTimeout(silence);
    ctl?.abort();
    onState("paused", "this tab is hidden: it leaves its connection to the other tabs until it is shown");
  };
  const shown = () => {
    if (hidden()) return pause();
    if (!paused || stopped) return;
    paused = false;
    void open();
  };
  document.addEventListener("visibilitychange", shown);
  void open();
  return () => {
    stopped = true;
    document.removeEventListener("visibilitychange", shown);
    clearTimeout(timer);
    clearTimeout(silence);
    ctl?.abort();
  };
}

const hidden = () => document.visibilityState === "hidden";

/** Why the server refused the event stream, and when to try again (s). */
async function refusal(res) {
  const problem = await res.json().catch(() => undefined);
  const detail = problem?.detail ?? `HTTP ${res.status}${res.ok ? ": not an event stream" : ""}`;
  if (res.status === 503) {
    const after = Number(res.headers.get("Retry-After"));
    return { state: "busy", detail, retryS: after > 0 ? after : 10 };
  }
  return { state: "closed", detail, retryS: 10 };
}

/**
 * Reads server-sent events from `body` until it ends: `event:` names the handler, `data:` lines are
 * its JSON, a blank line dispatches, a line beginning with `:` is a comment (the server's ping).
 * `heard()` after each chunk read.
 */
async function readFrames(body, handlers, heard) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    heard();
    buf += value;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
      if (line === "") {
        const fn = handlers[name];
        const text = data.join("\n");
        name = "message";
        data = [];
        if (fn === undefined || text === "") continue;
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        try {
          fn(parsed);
        } catch (e) {
          // A handler's bug is the page's, reported as uncaught; the stream goes on (as EventSource's).
          reportError(e);
        }
      } else if (!line.startsWith(":")) {
        const c = line.indexOf(":");
        const field = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
        if (field === "event") name = v;
        else if (field === "data") data.push(v);
      }
    }
  }
}
