// Runs the AVR build of firmware/avr/checks_main.cpp in avr8js (an ATmega328P) and prints each
// check; exits non-zero if one failed or the program did not finish.
//   node firmware/avr/run-checks.mjs <checks.hex>
import { readFileSync } from "node:fs";
import { avrInstruction, CPU } from "avr8js";

// In the order checks_main.cpp runs them.
const CHECKS = [
  "PubSubClient 2.8's callback length for a topic length past the packet wraps to 65527",
  "copyReceived refuses that length (a 10-byte topic: the sum of the two wraps to 1)",
  "copyReceived refuses length 65535 with an empty topic",
  "copyReceived takes a 15-byte topic, its NUL and 240 bytes: 256 in all",
  "copyReceived refuses a 15-byte topic with 241 bytes: 257",
  "copyReceived takes an empty topic with 255 bytes",
  "copyReceived refuses an empty topic with 256 bytes",
];
const GPIOR0 = 0x3e; // data-space address of the I/O register GPIOR0 (I/O 0x1e)

const [hexPath] = process.argv.slice(2);
if (!hexPath) {
  console.error("usage: run-checks.mjs <checks.hex>");
  process.exit(2);
}
const flash = new Uint8Array(0x8000);
let base = 0;
for (const line of readFileSync(hexPath, "utf8").split(/\r?\n/)) {
  if (!line.startsWith(":")) continue;
  const bytes = Buffer.from(line.slice(1), "hex");
  const [count, hi, lo, type] = bytes;
  if (type === 0) flash.set(bytes.subarray(4, 4 + count), base + ((hi << 8) | lo));
  else if (type === 2) base = ((bytes[4] << 8) | bytes[5]) << 4;
}
const cpu = new CPU(new Uint16Array(flash.buffer), 2048);
const results = [];
let done = false;
cpu.writeHooks[GPIOR0] = (value) => {
  if (value === 0xff) done = true;
  else results.push(value === 1);
  return false;
};
while (!done && cpu.cycles < 10_000_000) {
  avrInstruction(cpu);
  cpu.tick();
}
let failed = done && results.length === CHECKS.length ? 0 : 1;
if (failed)
  console.error(
    `the program ran ${results.length} of ${CHECKS.length} checks${done ? "" : " and did not finish"}`,
  );
results.forEach((ok, i) => {
  if (!ok) failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${CHECKS[i] ?? `check ${i + 1}`}`);
});
process.exit(failed === 0 ? 0 : 1);
