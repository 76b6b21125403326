/**
 * Calibration of the link model against the kernel's TCP: the same fleet of pairs two ways, per
 * loss level. Real: mqtt.js clients and the broker (`twinfleet broker`) in a fresh network namespace,
 * nftables dropping each packet to and from the broker's port at random (bench/calibrate-clients.ts).
 * Model: a virtual-time fleet of `linux-client` nodes, same nodes, pairing, rate, duration and loss.
 * Both are judged as the simulator's checker judges a run (bench/calibrate-judge.ts); the kernel's
 * per-message figures (publish → partner's receive) are recorded beside as `realPerMessage`.
 * Needs root, `ip` and `nft`; without them it says so and exits 1.
 *   npm run bench -- calibrate [--loss 5,10,15,20,25] [--rates 40] [--clients 50] [--seconds 60]
 *   [--model-seeds N]: N model runs per level, pooled
 *   [--traffic plain|protocol]: the kernel's clients send QoS 1 presses only (plain, the default), or
 *   the simulated nodes' messages — own echo and the partner's forward, QoS 0 (bench/calibrate-clients.ts)
 *   [--model-only]: the model half alone (no root), for developing the model between kernel runs.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { commandWorks } from "../fleet/kernel-loss.js";
import { calibrateModel, modelSide } from "./calibrate-model.js";
import {
  compare,
  markdownTable,
  nftRuleset,
  parseNumberList,
  type Row,
  summarize,
} from "./calibrate-table.js";
import { arg, numArg, record } from "./record.js";

const PORT = 1883;
const root = fileURLToPath(new URL("..", import.meta.url));

/** Root, `ip netns` and nftables, or the reason the real half cannot run. */
function realLossProblem(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces and nftables)";
  if (!commandWorks("ip", ["-V"])) return "needs `ip` (iproute2)";
  if (!commandWorks("nft", ["--version"])) return "needs `nft` (apt-get install nftables)";
  const ns = `tfcalprobe${process.pid}`;
  const ok = commandWorks("ip", ["netns", "add", ns]);
  if (!ok) return "`ip netns add` is not permitted here";
  try {
    execFileSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], {
      input: nftRuleset("twinfleet_probe", PORT, 0),
      stdio: ["pipe", "ignore", "pipe"],
    });
  } catch (e) {
    return `nftables is not permitted in a namespace: ${(e as Error).message.split("\n")[0]}`;
  } finally {
    commandWorks("ip", ["netns", "del", ns]);
  }
  return undefined;
}

interface RealRun {
  readonly presses: number;
  readonly lost: number;
  readonly reconnects: number;
  /** Publish → partner's receive, per message; `lost`: not received within 5 s. */
  readonly latencies: number[];
  /** The same log judged as the simulator's checker judges a run (bench/calibrate-judge.ts). */
  readonly sync: { readonly latencies: number[]; readonly lost: number };
}

function output(child: ReturnType<typeof spawn>): Promise<string> {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  return new Promise((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err.slice(-2000)}`)),
    ),
  );
}

async function real(
  clients: number,
  rate: number,
  seconds: number,
  lossPct: number,
  seed: number,
  traffic: string,
): Promise<RealRun> {
  const ns = `tfcal${process.pid}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    const node = (args: string[]) =>
      spawn("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", ...args], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
    const broker = node(["cli/bin.ts", "broker", "--host", "127.0.0.1", "--port", String(PORT)]);
    try {
      const args = [...[clients, rate, seconds, lossPct, PORT, seed].map(String), traffic];
      const text = await output(node(["bench/calibrate-clients.ts", ...args]));
      return JSON.parse(text.trim().split("\n").at(-1) as string) as RealRun;
    } finally {
      broker.kill("SIGTERM");
      await new Promise((r) => broker.once("exit", r));
    }
  } finally {
    execFileSync("ip", ["netns", "del", ns]);
  }
}

export async function calibrate(argv: string[]): Promise<void> {
  if (argv.includes("--model-only")) {
    await calibrateModel(argv);
    return;
  }
  const losses = parseNumberList("--loss", arg(argv, "--loss", "5,10,15,20,25"), 0, 90);
  const rates = parseNumberList("--rates", arg(argv, "--rates", "40"), 0.01, 10_000);
  const clients = numArg(argv, "--clients", 50);
  const seconds = numArg(argv, "--seconds", 60);
  const traffic = arg(argv, "--traffic", "plain");
  if (traffic !== "plain" && traffic !== "protocol") {
    throw new Error(`--traffic ${traffic}: plain (QoS 1 presses only) or protocol (the nodes' messages)`);
  }
  if (!Number.isInteger(clients) || clients < 2 || clients % 2 !== 0) {
    throw new Error(`--clients ${clients}: an even number ≥ 2 (the fleet is pairs)`);
  }
  const problem = realLossProblem();
  if (problem) {
    console.error(`calibrate: the real-loss half ${problem}; nothing measured`);
    process.exitCode = 1;
    return;
  }
  const rows: Row[] = [];
  let seed = 1;
  for (const rate of rates) {
    for (const lossPct of losses) {
      if (!Number.isInteger(lossPct)) throw new Error(`--loss ${lossPct}: nftables draws whole percents`);
      console.error(
        `loss ${lossPct} %, ${rate}/s, ${clients} clients, ${seconds} s: real (kernel TCP, nftables, ${traffic} traffic)`,
      );
      const r = await real(clients, rate, seconds, lossPct, seed++, traffic);
      console.error(
        `  real: ${r.presses} presses, ${r.lost} lost, ${r.reconnects} reconnects; model (linux-client)`,
      );
      const m = await modelSide(clients, rate, seconds, lossPct, numArg(argv, "--model-seeds", 1));
      console.error(`  model: ${m.samples} deliveries, ${m.lost} lost`);
      // The model's figures are the checker's (state: a partner's own later press settles a pair),
      // so the kernel's side is judged the same way; its per-message figures are kept beside.
      const row = compare(lossPct, rate, summarize(r.sync.latencies, r.sync.lost), m);
      rows.push({ ...row, realPerMessage: summarize(r.latencies, r.lost) });
    }
  }
  // Loss N % per packet in each direction, data and ACKs alike, as nftables drops them.
  console.error(`model: loss N per packet, each direction\n${markdownTable(rows)}`);
  record("calibrate", { clients, seconds, port: PORT, traffic, rows });
}
