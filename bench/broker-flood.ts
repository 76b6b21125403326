/**
 * The publish path's cost in `twinfleet broker`, in its own process, with and without `--http`: one
 * subscriber on `flood/#`, four publishers sending `--messages` PUBLISH packets (half QoS 0, half
 * QoS 1, 64-byte payloads) as fast as the subscriber takes them; the figure is the broker process's
 * CPU time (user + system, /proc) per message from the first publish to the last delivery. Variants:
 * `plain` (no `--http`), `http-idle` (`--http`, nobody scraping) and `http` (a scraper reading
 * /metrics every second meanwhile). Variants run in turn, `--rounds` times,
 * their order rotated; ratios are of medians measured side by side. `--base DIR` adds another
 * checkout's CLI (e.g. the commit before the counts) as a fourth variant; `--variants` runs only
 * those named.
 *   npm run bench -- broker-flood [--messages 100000] [--rounds 5] [--base /tmp/tf-base] [--variants plain,http]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { connectAsync, type MqttClient } from "mqtt";
import { cpuSeconds } from "./proc-cpu.js";
import { arg, median, namesArg, numArg, record } from "./record.js";

interface Variant {
  readonly name: string;
  readonly root: string;
  readonly http: boolean;
  /** Read /metrics every second during the flood. */
  readonly scrape: boolean;
}

const PUBLISHERS = 4;
const PAYLOAD = Buffer.alloc(64, 0x41);
/** QoS 0 messages in flight per publisher before it waits for the subscriber to catch up. */
const WINDOW = 500;

export async function brokerFlood(argv: string[]): Promise<void> {
  const messages = numArg(argv, "--messages", 100_000);
  const rounds = numArg(argv, "--rounds", 5);
  const base = arg(argv, "--base", "");
  const here = resolve(".");
  const names = ["plain", "http-idle", "http", ...(base === "" ? [] : ["base"])];
  const only = argv.includes("--variants") ? namesArg(argv, "--variants", "", names) : [];
  const variants: Variant[] = [
    { name: "plain", root: here, http: false, scrape: false },
    { name: "http-idle", root: here, http: true, scrape: false },
    { name: "http", root: here, http: true, scrape: true },
    ...(base === "" ? [] : [{ name: "base", root: resolve(base), http: false, scrape: false }]),
  ].filter((v) => only.length === 0 || only.includes(v.name));
  const cpuPerMsgUs: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length] as Variant;
      const cpu = await once(v, messages);
      cpuPerMsgUs[v.name]?.push(Math.round((cpu / messages) * 1e8) / 100);
      console.error(`round ${r + 1} ${v.name}: ${((cpu / messages) * 1e6).toFixed(2)} µs CPU per message`);
    }
  }
  const med = Object.fromEntries(Object.entries(cpuPerMsgUs).map(([k, xs]) => [k, median(xs)]));
  const ratio = (a: string, b: string) =>
    med[a] !== undefined && med[b] !== undefined
      ? Math.round(((med[a] as number) / (med[b] as number)) * 1000) / 1000
      : undefined;
  record("broker-flood", {
    messages,
    rounds,
    cpuPerMessageUs: cpuPerMsgUs,
    medianUs: med,
    httpOverPlain: ratio("http", "plain"),
    httpIdleOverPlain: ratio("http-idle", "plain"),
    plainOverBase: ratio("plain", "base"),
    httpOverBase: ratio("http", "base"),
  });
}

/** One broker process, one flood: the broker's CPU seconds spent on it. */
async function once(v: Variant, messages: number): Promise<number> {
  const { child, port, httpOrigin } = await spawnBroker(v);
  const url = `mqtt://127.0.0.1:${port}`;
  const clients: MqttClient[] = [];
  let scraping: NodeJS.Timeout | undefined;
  try {
    const sub = await connectAsync(url, { clientId: "sink", reconnectPeriod: 0 });
    clients.push(sub);
    await sub.subscribeAsync("flood/#", { qos: 1 });
    let received = 0;
    const waiters: (() => void)[] = [];
    sub.on("message", () => {
      received++;
      for (const w of waiters.splice(0)) w();
    });
    const until = (n: number) =>
      new Promise<void>((r) => {
        if (received >= n) r();
        else {
          const check = () => (received >= n ? r() : waiters.push(check));
          waiters.push(check);
        }
      });
    const pubs = await Promise.all(
      Array.from({ length: PUBLISHERS }, (_, i) =>
        connectAsync(url, { clientId: `p${i}`, reconnectPeriod: 0 }),
      ),
    );
    clients.push(...pubs);
    if (httpOrigin !== undefined && v.scrape)
      scraping = setInterval(() => void fetch(`${httpOrigin}/metrics`).then((r) => r.text()), 1000);
    const before = cpuSeconds(child.pid as number) ?? 0;
    const perPub = Math.floor(messages / PUBLISHERS / 2) * 2;
    let sent = 0;
    await Promise.all(
      pubs.map(async (p, i) => {
        // QoS 0 in windows (the subscriber's count paces them), then QoS 1 one window of acks at a time.
        for (let k = 0; k < perPub / 2; k += WINDOW) {
          const n = Math.min(WINDOW, perPub / 2 - k);
          for (let j = 0; j < n; j++) p.publish(`flood/${i}`, PAYLOAD, { qos: 0 });
          sent += n;
          await until(sent - WINDOW * PUBLISHERS);
        }
        for (let k = 0; k < perPub / 2; k += WINDOW) {
          const n = Math.min(WINDOW, perPub / 2 - k);
          await Promise.all(
            Array.from({ length: n }, () => p.publishAsync(`flood/${i}`, PAYLOAD, { qos: 1 })),
          );
          sent += n;
        }
      }),
    );
    await until(perPub * PUBLISHERS);
    return (cpuSeconds(child.pid as number) ?? 0) - before;
  } finally {
    if (scraping) clearInterval(scraping);
    await Promise.all(clients.map((c) => c.endAsync(true)));
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await gone;
  }
}

function spawnBroker(v: Variant): Promise<{ child: ChildProcess; port: number; httpOrigin?: string }> {
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", "cli/bin.ts", "broker", "--host", "127.0.0.1", "--port", "0"],
      ...(v.http ? ["--http", "127.0.0.1:0"] : []),
    ],
    { cwd: v.root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  return new Promise((resolveStart, reject) => {
    const read = (d: Buffer) => {
      log += d.toString();
      const port = /mqtt:\/\/[^\s:]+:(\d+)/.exec(log)?.[1];
      const origin = /metrics: (http:\/\/\S+)\/metrics/.exec(log)?.[1];
      if (port !== undefined && (!v.http || origin !== undefined))
        resolveStart({ child, port: Number(port), ...(origin ? { httpOrigin: origin } : {}) });
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => reject(new Error(`broker (${v.name}) exited ${code}:\n${log}`)));
  });
}
