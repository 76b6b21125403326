/**
 * The profiles against the firmware's measurements: every uno-w5100 figure marked measured equals the
 * operation its ref names in firmware/measured/uno-cycles.json (or the whole-firmware build in
 * firmware/budget.json), and the derived per-source config figure follows from its two measured
 * points. Fails when either side changes without the other.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadProfile } from "../profile.js";

const read = (path: string): unknown =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), "utf8"));

interface Measured {
  readonly compiler: string;
  readonly operations: Readonly<Record<string, { readonly cycles: number }>>;
}
interface Budget {
  readonly firmware: { readonly measuredFlashBytes: number; readonly measuredStaticRamBytes: number };
}

const CYCLES_FILE = "firmware/measured/uno-cycles.json";
const measured = read(CYCLES_FILE) as Measured;
const budget = read("firmware/budget.json") as Budget;
const uno = loadProfile("uno-w5100").cited;
const REF = new RegExp(`^${CYCLES_FILE.replace(/\./g, "\\.")}: (.+?) \\(avr-gcc 5\\.4 -Os, avr8js\\)(;|$)`);

/** The operation a measured figure's ref names. */
function operation(ref: string): string {
  const m = REF.exec(ref);
  if (m?.[1] === undefined) throw new Error(`ref does not name a measured operation: ${ref}`);
  return m[1];
}

const coreFigures = Object.entries(uno.coreCycles);

describe("uno-w5100 core cycles", () => {
  it("come from the compiler the refs name", () => {
    expect(measured.compiler).toMatch(/^avr-gcc \(GCC\) 5\.4\./);
  });

  it("mark most figures measured", () => {
    const m = coreFigures.filter(([, f]) => f.source === "measured").map(([k]) => k);
    expect(m.length).toBeGreaterThanOrEqual(15);
  });

  it.each(coreFigures.filter(([, f]) => f.source === "measured"))(
    "%s equals the measured operation it names",
    (_key, f) => {
      const op = operation(f.ref);
      expect(measured.operations[op], `no operation "${op}" in ${CYCLES_FILE}`).toBeDefined();
      expect(f.value).toBe(measured.operations[op]?.cycles);
    },
  );

  it("configPerSource is the 8-source config less the 1-source one, over the 7 extra sources", () => {
    const ops = measured.operations;
    const one = ops["retained config while syncing (C1 1 <id>)"]?.cycles ?? Number.NaN;
    const eight =
      ops["retained config with 8 sources of 23 chars while synced (diff: 1 unsubscribe, 8 subscribes)"]
        ?.cycles ?? Number.NaN;
    expect(uno.coreCycles.retainedConfig.value).toBe(one);
    expect(uno.coreCycles.configPerSource.value).toBe(Math.round((eight - one) / 7));
    expect(uno.coreCycles.configPerSource.source).toBe("estimate");
  });

  it("every figure left an estimate says from what", () => {
    for (const [, f] of coreFigures.filter(([, f]) => f.source !== "measured"))
      expect(f.ref).toMatch(/uno-cycles\.json/);
  });
});

describe("uno-w5100 firmware size", () => {
  it("is the measured whole-firmware build", () => {
    expect(uno.firmware?.flashUsedBytes).toMatchObject({
      value: budget.firmware.measuredFlashBytes,
      source: "measured",
    });
    expect(uno.firmware?.sramStaticBytes).toMatchObject({
      value: budget.firmware.measuredStaticRamBytes,
      source: "measured",
    });
  });
});
