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
    etag: etag ? Number(etag.replace(/^W\//, "").replaceAll('"', "")) : undefined,
    data,
  };
}

/** A sentence for the user about a failed action. */
export function explain(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  if (err.status === 401)
    return "This action needs the access token: open the address twinfleet printed (it ends in #token=…).";
  const field = err.field ? ` (${err.field})` : "";
  return `${err.title}${field}${err.detail && err.detail !== err.title ? `: ${err.detail}` : ""}`;
}

/**
 * The event stream: `handlers[name](data)` for every named event, and `onState(state, detail)` as
 * it changes: "open"; "reconnecting" (a dropped stream, which EventSource opens again by itself);
 * "busy" (the server refused it with 503, holding as many streams as it keeps: opened again after
 * its Retry-After); "closed" (any other refusal, or no answer: opened again in 10 s). EventSource
 * neither says why a server refused it nor tries again, hence the one request that asks. Each new
 * connection starts with `hello`. Returns a function that closes the stream for good.
 */
export function events(handlers, onState) {
  const t = token();
  const url = `api/events${t ? `?token=${encodeURIComponent(t)}` : ""}`;
  let es;
  let timer;
  let stopped = false;
  const open = () => {
    es = new EventSource(url);
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        fn(data);
      });
    }
    es.onopen = () => onState("open");
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) return onState("reconnecting");
      void refusal(url).then(({ state, detail, retryS }) => {
        if (stopped) return;
        onState(state, detail);
        timer = setTimeout(open, retryS * 1000);
      });
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    es.close();
  };
}

/** Why the server refused the event stream at `url`, and when to try again (s). */
async function refusal(url) {
  const ctl = new AbortController();
  let res;
  try {
    res = await fetch(url, { signal: ctl.signal, headers: { Accept: "text/event-stream" } });
  } catch (e) {
    return { state: "closed", detail: `the server cannot be reached: ${e?.message ?? e}`, retryS: 10 };
  }
  if (res.ok) {
    // A stream is free now: this one is not read, the next open() takes its own.
    ctl.abort();
    return { state: "reconnecting", retryS: 0 };
  }
  const problem = await res.json().catch(() => undefined);
  const detail = problem?.detail ?? `HTTP ${res.status}`;
  if (res.status === 503) {
    const after = Number(res.headers.get("Retry-After"));
    return { state: "busy", detail, retryS: after > 0 ? after : 10 };
  }
  return { state: "closed", detail, retryS: 10 };
}
