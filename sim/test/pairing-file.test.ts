// The pairing file: what it reads, and for each kind of mistake, the file, the line and the problem.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { PairingFileError, parsePairing, readPairingFile } from "../pairing-file.js";
import { fleetIds } from "../topology.js";

const ids = fleetIds(6);
const plain = (p: ReadonlyMap<string, readonly string[]>) => Object.fromEntries(p);

/** The error `text` gives, as [line, problem]. */
function error(text: string): [number | undefined, string] {
  try {
    parsePairing(text, "pairs.json", ids);
  } catch (e) {
    if (!(e instanceof PairingFileError)) throw e;
    expect(e.file).toBe("pairs.json");
    expect(e.message).toBe(
      `pairing file pairs.json${e.line === undefined ? "" : `, line ${e.line}`}: ${e.problem}`,
    );
    return [e.line, e.problem];
  }
  throw new Error("no error");
}

describe("pairing files", () => {
  it("reads followers and their sources, in order, a source named twice once", () => {
    const text = `{
  "n-0001": ["n-0000"],
  "n-0002": ["n-0000", "n-0001", "n-0000"],
  "n-0003": []
}
`;
    expect(plain(parsePairing(text, "pairs.json", ids))).toEqual({
      "n-0001": ["n-0000"],
      "n-0002": ["n-0000", "n-0001"],
      "n-0003": [],
    });
    expect(plain(parsePairing("\uFEFF{}", "empty.json", ids))).toEqual({});
  });

  it("names the line of a JSON mistake", () => {
    expect(error('{\n  "n-0001": ["n-0000"],\n}\n')).toEqual([
      3,
      'not valid JSON: expected a follower id in quotes, found "}"',
    ]);
    expect(error('{\n  "n-0001": ["n-0000" "n-0002"]\n}')).toEqual([
      2,
      'not valid JSON: expected , or ], found "\\""',
    ]);
    expect(error('{\n  "n-0001": ["n-0000"]')).toEqual([
      2,
      "not valid JSON: expected , or }, found the end of the file",
    ]);
    expect(error('{\n  "n-0001\n": []}')).toEqual([2, "a string without its closing quote"]);
    expect(error('{"n-0001": ["n-0000"]}\n{}')).toEqual([
      2,
      'not valid JSON: unexpected text after the closing }, found "{"',
    ]);
    expect(error('{\n  n-0001: ["n-0000"]\n}')).toEqual([
      2,
      'not valid JSON: expected a follower id in quotes, found "n"',
    ]);
  });

  it("says what the whole file must be", () => {
    expect(error('[["n-0001", "n-0000"]]')).toEqual([
      1,
      'must be a JSON object, { "follower": ["source", …], … } (got a list)',
    ]);
    expect(error("  \n")).toEqual([
      1,
      'must be a JSON object, { "follower": ["source", …], … } (got an empty file)',
    ]);
  });

  it("names the follower's or the source's line and what is wrong with it", () => {
    const text = (body: string) => `{\n  "n-0001": ["n-0000"],\n${body}\n}`;
    expect(error(text('  "n-0002": [\n    "n-0001",\n    "zz"\n  ]'))).toEqual([
      5,
      "source zz of n-0002 is not a node of this fleet (n-0000 … n-0005)",
    ]);
    expect(error(text('  "n-0009": ["n-0001"]'))).toEqual([
      3,
      "follower n-0009 is not a node of this fleet (n-0000 … n-0005)",
    ]);
    expect(error(text('  "n-0002": ["n-0002"]'))).toEqual([3, "n-0002 cannot follow itself"]);
    expect(error(text('  "a b": ["n-0001"]'))).toEqual([
      3,
      'follower "a b" is not a node id (1-23 characters of A-Z a-z 0-9 _ -)',
    ]);
    expect(error(text('  "n-0002": ["a b"]'))).toEqual([
      3,
      'source "a b" of n-0002 is not a node id (1-23 characters of A-Z a-z 0-9 _ -)',
    ]);
    expect(error(text('  "n-0002": [1]'))).toEqual([
      3,
      "a source of n-0002 must be a node id in quotes (got 1)",
    ]);
    expect(error(text('  "n-0002": "n-0001"'))).toEqual([
      3,
      'n-0002 must map to a list of source ids, like "n-0002": ["n-0000"]',
    ]);
    expect(error(text('  "n-0001": ["n-0002"]'))).toEqual([
      3,
      "n-0001 is listed again (first on line 2); list each follower once",
    ]);
    const many = fleetIds(11);
    expect(() => parsePairing(`{"n-0001": ${JSON.stringify(many.slice(2))}}`, "many.json", many)).toThrow(
      "pairing file many.json, line 1: n-0001 follows 9 sources; at most 8",
    );
  });

  it("says when the file cannot be read, and reads one that can", () => {
    expect(() => readPairingFile("/nonexistent/pairs.json", ids)).toThrow(
      /^cannot read \/nonexistent\/pairs.json: no such file$/,
    );
    const dir = mkdtempSync(join(tmpdir(), "tf-pairing-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "pairs.json");
    writeFileSync(file, '{"n-0001": ["n-0000"]}\n');
    expect(plain(readPairingFile(file, ids))).toEqual({ "n-0001": ["n-0000"] });
  });
});
