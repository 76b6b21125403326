/**
 * What the browser tests and the web-page benchmark share: a real `twinfleet sim --http` started as a
 * child process given a token (its web address and broker read from its log), Debian's Chromium driven by
 * playwright-core with a fresh profile and no background traffic, `twinfleet nodes` run as a process,
 * and the checks that fail with what to install when Chromium or Prometheus is missing.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { cliArgs } from "../../../node/test/cli-command.js";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const CHROMIUM = "/usr/bin/chromium";
export const PROMETHEUS = "/usr/bin/prometheus";

/** Throws, naming the Debian package, when a program the web tests drive is not installed. */
export function requireProgram(path: string, pkg: string): void {
  if (!existsSync(path))
    throw new Error(
      `${path} not found: the web tests need Debian's ${pkg} package (apt-get install --no-install-recommends ${pkg}; .ci/run installs it)`,
    );
}

export interface SimServer {
  /** e.g. http://127.0.0.1:40123/ */
  readonly origin: string;
  /** The page's address with the sim's token in its fragment (`#token=…`). */
  readonly pageUrl: string;
  readonly token: string;
  readonly brokerUrl: string;
  /** The page at a route (`/node/n-0001`), in a new tab that has not seen the token yet. */
  at(route: string): string;
  /** Everything the process wrote on stderr so far. */
  log(): string;
  /** fetch() on the server, with the token unless `auth: false`. */
  api(path: string, init?: RequestInit & { auth?: boolean }): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts `twinfleet sim --headless --http 127.0.0.1:0` with presses off; resolves once it serves. */
export async function startSim(nodes: number, extra: readonly string[] = []): Promise<SimServer> {
  const child = spawn(
    process.execPath,
    [
      ...cliArgs(),
      ...["sim", "--headless"],
      ...["--nodes", String(nodes), "--rate", "0", "--duration", "3600", "--seed", "web"],
      ...["--http", "127.0.0.1:0", "--progress-every", "3600", ...extra],
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: withToken() },
  );
  let err = "";
  // Whatever way this process ends, the fleet ends with it.
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      process.removeListener("exit", reap);
      resolve(code);
    }),
  );
  const ready = new Promise<{ pageUrl: string; brokerUrl: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`twinfleet sim did not print its web address:\n${err}`)),
      60_000,
    );
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const web = /web: (http:\/\/\S+)/.exec(err)?.[1];
      // A run on virtual time names its in-memory broker (memory://in-process).
      const broker = /broker ((?:mqtt|memory):\/\/[^\s,]+)/.exec(err)?.[1];
      if (web && broker) {
        clearTimeout(timer);
        resolve({ pageUrl: web, brokerUrl: broker });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`twinfleet sim exited (${code}) before serving:\n${err}`));
    });
  });
  let found: { pageUrl: string; brokerUrl: string };
  try {
    found = await ready;
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  // The line ends in `#token=…` (a chosen token is never written): the page is opened with it added.
  const url = new URL(found.pageUrl);
  const token = SIM_TOKEN;
  const origin = `${url.origin}/`;
  return {
    origin,
    pageUrl: `${origin}#token=${encodeURIComponent(token)}`,
    token,
    brokerUrl: found.brokerUrl,
    at: (route) => `${origin}#${route}&token=${encodeURIComponent(token)}`,
    log: () => err,
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.auth !== false && !headers.has("Authorization"))
        headers.set("Authorization", `Bearer ${token}`);
      return fetch(new URL(path, origin), { ...init, headers });
    },
    stop: () => stop(child, exited),
  };
}

export interface BrokerProcess {
  /** `http://127.0.0.1:PORT`, where it serves /metrics and /healthz. */
  readonly httpOrigin: string;
  /** `mqtt://127.0.0.1:PORT`, where its MQTT listener is. */
  readonly brokerUrl: string;
  log(): string;
  /** kill -9, and its exit. */
  stop(): Promise<void>;
}

/** Starts `twinfleet broker --http 127.0.0.1:0` on loopback ports; resolves once it serves /metrics. */
export async function startBrokerProcess(extra: readonly string[] = []): Promise<BrokerProcess> {
  const s = await startService(
    "twinfleet broker",
    ["broker", "--host", "127.0.0.1", "--port", "0", "--http", "127.0.0.1:0", ...extra],
    (log) => {
      const httpOrigin = /metrics: (http:\/\/\S+)\/metrics/.exec(log)?.[1];
      const brokerUrl = /listening on \S+ \((mqtt:\/\/[^)\s]+)\)/.exec(log)?.[1];
      return httpOrigin && brokerUrl ? { httpOrigin, brokerUrl } : undefined;
    },
  );
  return { ...s.found, log: s.log, stop: s.stop };
}

export interface TwinsProcess {
  /** `http://127.0.0.1:PORT`, where it serves the page, /metrics and /healthz. */
  readonly httpOrigin: string;
  log(): string;
  /** kill -9, and its exit. */
  stop(): Promise<void>;
}

/** Starts `twinfleet twins --broker URL --data DIR --http 127.0.0.1:0`; resolves once it serves. */
export async function startTwinsProcess(
  brokerUrl: string,
  data: string,
  extra: readonly string[] = [],
): Promise<TwinsProcess> {
  const s = await startService(
    "twinfleet twins",
    ["twins", "--broker", brokerUrl, "--data", data, "--http", "127.0.0.1:0", ...extra],
    (log) => {
      const web = /web: (http:\/\/\S+)/.exec(log)?.[1];
      return web ? { httpOrigin: new URL(web).origin } : undefined;
    },
  );
  return { ...s.found, log: s.log, stop: s.stop };
}

/** Runs `twinfleet ...args` until `found` reads what it needs from its output (within 60 s). */
async function startService<T>(
  name: string,
  args: readonly string[],
  found: (log: string) => T | undefined,
): Promise<{ found: T; log: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: withoutToken(),
  });
  let log = "";
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      process.removeListener("exit", reap);
      resolve(code);
    }),
  );
  const ready = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not say where:\n${log}`)), 60_000);
    const read = (d: Buffer) => {
      log += d.toString();
      const got = found(log);
      if (got !== undefined) {
        clearTimeout(timer);
        resolve(got);
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before serving:\n${log}`));
    });
  });
  try {
    return { found: await ready, log: () => log, stop: () => stop(child, exited) };
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}

/**
 * The token the sim is given (TWINFLEET_HTTP_TOKEN): its stderr is a pipe, and a generated token is
 * written only to a terminal, never to a log (cli/http.ts `tokenShown`).
 */
const SIM_TOKEN = "browser-sim-token-0123456789abcdef";

function withToken(): NodeJS.ProcessEnv {
  return { ...withoutToken(), TWINFLEET_HTTP_TOKEN: SIM_TOKEN };
}

/** The environment without a token from outside. */
function withoutToken(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TWINFLEET_HTTP_TOKEN;
  return env;
}

async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null) child.kill("SIGKILL");
  await exited;
}

export interface Browser {
  readonly context: BrowserContext;
  page(): Promise<Page>;
  /** Uncaught errors of the pages opened so far (a healthy page has none). */
  errors(): readonly string[];
  close(): Promise<void>;
}

/**
 * A blank page on an origin of its own (`http://chart.test/`) whose paths are the page's modules as
 * the server sends them (web/public): a test imports one and draws with it, nothing else running.
 */
export async function modulesPage(browser: Browser): Promise<Page> {
  const page = await browser.page();
  await page.route("http://chart.test/**", (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/")
      return route.fulfill({ contentType: "text/html", body: "<!doctype html><body></body>" });
    const body = readFileSync(join(ROOT, "web/public", path.replace(/^\//, "")));
    return route.fulfill({ contentType: "text/javascript", body });
  });
  await page.goto("http://chart.test/");
  return page;
}

/** Debian's Chromium, headless, with a fresh profile and none of its own network traffic. */
export async function openBrowser(
  opts: {
    width?: number;
    height?: number;
    colorScheme?: "light" | "dark";
    /** Chromium's own flags besides these (`--host-resolver-rules=…`). */
    args?: readonly string[];
    /** Accept a self-signed certificate (a proxy's under test). */
    ignoreHTTPSErrors?: boolean;
  } = {},
): Promise<Browser> {
  requireProgram(CHROMIUM, "chromium");
  const profile = mkdtempSync(join(tmpdir(), "tf-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(opts.args ?? []),
    ],
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false,
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 },
    colorScheme: opts.colorScheme ?? "light",
  });
  const errors: string[] = [];
  return {
    context,
    page: async () => {
      const p = await context.newPage();
      p.on("pageerror", (e) => errors.push(`${p.url()}: ${e.message}`));
      return p;
    },
    errors: () => errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI as a process (`twinfleet ...args`, cli/test/cli-command.ts); resolves its stdout. */
export function runCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...cliArgs(), ...args],
      { cwd: ROOT, timeout: 60_000 },
      (e, stdout, stderr) =>
        e ? reject(new Error(`twinfleet ${args.join(" ")}: ${e.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/**
 * Debian's Prometheus on `dir`/prometheus.yml (paths in it relative to `dir`), its store in
 * `dir`/data, listening on 127.0.0.1:`port`; each piece of its log goes to `log`.
 */
export function startPrometheus(dir: string, port: number, log: (text: string) => void): ChildProcess {
  const prom = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  prom.stderr?.on("data", (d: Buffer) => log(d.toString()));
  return prom;
}
