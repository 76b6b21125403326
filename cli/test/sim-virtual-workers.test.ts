// `twinfleet sim --clock virtual --workers N`: a headless run split over worker threads by whole
// groups gives the report of the same run in one thread, byte for byte, whatever N; a fleet that is
// one group stays in one thread with a note; what cannot be split is a usage error.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../main.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, out: out.join(""), err: err.join("") };
}

const dir = mkdtempSync(join(tmpdir(), "tf-vsplit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The report file of a run with `args`, and its stderr. */
async function report(name: string, args: string[]): Promise<{ text: string; err: string }> {
  const file = join(dir, `${name}.json`);
  const r = await run(["sim", "--clock", "virtual", "--headless", ...args, "--report", file]);
  expect(r.code, r.err).toBe(0);
  return { text: readFileSync(file, "utf8"), err: r.err };
}

describe("twinfleet sim --clock virtual --workers", () => {
  const fleet = ["--nodes", "48", "--duration", "20", "--settle", "3", "--rate", "12", "--loss", "10"];

  // One run per test (a run with threads starts each on the sources): four in one test passed its
  // deadline on a busy host.
  let one: { text: string; err: string } | undefined;
  async function oneThread(): Promise<string> {
    one ??= await report("w0", [...fleet, "--seed", "s", "--workers", "0"]);
    expect(one.err).not.toContain("worker threads");
    const parsed = JSON.parse(one.text);
    expect(parsed.presses).toBeGreaterThan(50);
    expect(parsed.deliveries).toBeGreaterThan(parsed.presses);
    expect(parsed.link.retransmissions).toBeGreaterThan(0);
    return one.text;
  }

  it("gives the one-thread report, byte for byte, in one worker thread", async () => {
    const w1 = await report("w1", [...fleet, "--seed", "s", "--workers", "1"]);
    expect(w1.text).toBe(await oneThread());
  });

  it("gives the one-thread report, byte for byte, over 2 threads", async () => {
    const w2 = await report("w2", [...fleet, "--seed", "s", "--workers", "2"]);
    expect(w2.err).toContain("virtual time over 2 worker threads");
    expect(w2.text).toBe(await oneThread());
  });

  it("gives the one-thread report, byte for byte, over 3 threads on a ring", async () => {
    const w3 = await report("w3", [...fleet, "--seed", "s", "--workers", "3", "--topology", "ring"]);
    expect(w3.err).toContain("virtual time over 3 worker threads");
    expect(w3.text).toBe(await oneThread());
  });

  it("does the same without twins and on another topology", async () => {
    const args = [...fleet, "--seed", "t", "--no-twins", "--topology", "chain", "--group-size", "5"];
    const one = await report("bare0", [...args, "--workers", "0"]);
    const two = await report("bare2", [...args, "--workers", "2"]);
    expect(two.err).toContain("virtual time over 2 worker threads");
    expect(JSON.parse(one.text).scenario).toMatchObject({ twins: "none", topology: "chain" });
    expect(two.text).toBe(one.text);
  });

  it("keeps a fleet that is one group in one thread, and says so", async () => {
    const r = await report("one-group", [
      "--nodes",
      "12",
      "--group-size",
      "12",
      "--duration",
      "5",
      "--workers",
      "2",
    ]);
    expect(r.err).toContain(
      "the fleet's pairing joins it into one group: the virtual run stays in one thread",
    );
    expect(JSON.parse(r.text).presses).toBeGreaterThanOrEqual(0);
  });

  it("refuses --workers where the run cannot be split", async () => {
    const faults = await run([
      "sim",
      "--clock",
      "virtual",
      "--headless",
      "--workers",
      "2",
      "--faults",
      "broker-restart",
    ]);
    expect(faults.code).toBe(2);
    expect(faults.err).toContain(
      "--workers: faults act on the whole fleet at once: a --clock virtual run with --faults runs in one thread (leave out --workers)",
    );
    const watched = await run(["sim", "--clock", "virtual", "--headless", "--http", "0", "--workers", "2"]);
    expect(watched.code).toBe(2);
    expect(watched.err).toContain("the console and --http watch one fleet in one thread");
  });
});
