// Runs the AVR build of firmware/avr/cycles_main.cpp in avr8js (an ATmega328P at 16 MHz) and
// writes the cycles and stack bytes each core operation took, with the compiler and flags.
//   node firmware/avr/run-cycles.mjs <cycles.hex> <out.json> <compiler version> <flags>
import { readFileSync, writeFileSync } from "node:fs";
import { avrInstruction, CPU } from "avr8js";

// In the order cycles_main.cpp runs them; id = index + 1.
const OPS = [
  "empty (marker overhead)",
  "boot",
  "connected (2 subscribes)",
  "retained config while syncing (C1 1 <id>)",
  "retained report completing the sync (5 subscribes, status, register)",
  "tick while synced (idle)",
  "state command: parse + apply + report (S1 1 41)",
  "source report: parse + apply + forward (R1 0 42 <id>)",
  "source report: stale drop",
  "button press while synced (stamp + report)",
  "subscribe command (F1 <id>): follow + config publish",
  "unsubscribe command (U1 <id>): unfollow + config publish",
  "query (register + report)",
  "retained config with 8 sources of 23 chars while synced (diff: 1 unsubscribe, 8 subscribes)",
  "malformed report: bad-payload drop",
  "unknown topic: bad-topic drop",
  "decode only: state message",
  "encode only: register payload",
  "encode only: report payload with the largest counter and longest origin",
];
const GPIOR0 = 0x3e; // data-space address of the I/O register GPIOR0 (I/O 0x1e)
const F_CPU = 16_000_000;

const [hexPath, outPath, compiler = "unknown", flags = ""] = process.argv.slice(2);
if (!hexPath || !outPath) {
  console.error("usage: run-cycles.mjs <cycles.hex> <out.json> [compiler] [flags]");
  process.exit(2);
}

function loadHex(text, into) {
  let base = 0;
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith(":")) continue;
    const bytes = Buffer.from(line.slice(1), "hex");
    const [count, hi, lo, type] = bytes;
    if (type === 0) into.set(bytes.subarray(4, 4 + count), base + ((hi << 8) | lo));
    else if (type === 2) base = ((bytes[4] << 8) | bytes[5]) << 4;
  }
}

const flash = new Uint8Array(0x8000);
loadHex(readFileSync(hexPath, "utf8"), flash);
const cpu = new CPU(new Uint16Array(flash.buffer), 2048);

const results = [];
let current = null;
let done = false;
cpu.writeHooks[GPIOR0] = (value) => {
  if (value === 0xff) done = true;
  else if (value === 0 && current) {
    results.push({ ...current, cycles: cpu.cycles - current.start, stack: current.sp - current.minSp });
    current = null;
  } else if (value > 0) {
    current = { id: value, start: cpu.cycles, sp: cpu.SP, minSp: cpu.SP };
  }
  return false;
};

let minSpOverall = cpu.SP === 0 ? 0x8ff : cpu.SP;
const limit = 50_000_000;
while (!done && cpu.cycles < limit) {
  avrInstruction(cpu);
  cpu.tick();
  const sp = cpu.SP;
  if (current && sp < current.minSp) current.minSp = sp;
  if (sp !== 0 && sp < minSpOverall) minSpOverall = sp;
}
if (!done) {
  console.error(`the harness did not finish within ${limit} cycles`);
  process.exit(1);
}
if (results.length !== OPS.length) {
  console.error(`expected ${OPS.length} operations, the harness ran ${results.length}`);
  process.exit(1);
}
const overhead = results[0].cycles;
const operations = {};
for (const r of results.slice(1)) {
  const name = OPS[r.id - 1];
  const cycles = r.cycles - overhead;
  operations[name] = { cycles, microseconds: Math.round((cycles / F_CPU) * 1e7) / 10, stackBytes: r.stack };
}
const out = {
  source:
    "Measured: firmware/avr/cycles_main.cpp built with avr-gcc for the ATmega328P and run in avr8js " +
    "by firmware/avr/run-cycles.mjs (npm run test:firmware). Cycles of the core alone, marker " +
    "overhead subtracted; the output callback only touches each output (no PubSubClient, no SPI). " +
    "stackBytes: the deepest stack below the caller during the operation.",
  mcu: "atmega328p",
  fCpuHz: F_CPU,
  simulator: "avr8js 0.21.1",
  compiler,
  flags,
  markerOverheadCycles: overhead,
  peakStackBytesOfRun: 0x8ff - minSpOverall,
  operations,
};
writeFileSync(outPath, `${JSON.stringify(out, null, 2)}\n`);
for (const [name, r] of Object.entries(operations)) {
  console.log(
    `${String(r.cycles).padStart(7)} cycles ${String(r.microseconds).padStart(7)} µs ${String(r.stackBytes).padStart(4)} B stack  ${name}`,
  );
}
