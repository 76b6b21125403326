/**
 * The pairing file (`twinfleet sim --topology FILE.json`, docs/pairing.md): a JSON object mapping
 * each follower to the list of sources it follows. This module owns reading it and saying what is
 * wrong with a bad one — the file, the line and the problem — so its own small JSON reader keeps the
 * line of every follower and every source (JSON.parse knows none of them).
 */
import { isNodeId, MAX_FOLLOWS, NodeId, OptionError } from "../protocol/index.js";
import { shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, readUserText } from "../protocol/user-file.js";
import type { Pairing } from "./topology.js";

/**
 * A pairing file that cannot be used; `line` is 1-based, absent when the file could not be read
 * (then `problem` is the whole message, `cannot read FILE: why`).
 */
export class PairingFileError extends OptionError {
  override readonly name = "PairingFileError";
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(line === undefined ? problem : `pairing file ${shownPath(file)}, line ${line}: ${problem}`);
  }
}

const ID_RULE = "1-23 characters of A-Z a-z 0-9 _ -";

/** Reads `{ "follower": ["source", …], … }`; every id named must be a node of the fleet (`ids`). */
export function readPairingFile(path: string, ids: readonly NodeId[]): Pairing {
  const text = readUserText(path, {
    maxBytes: FILE_LIMITS.fleet,
    error: (m) => new PairingFileError(path, undefined, m),
  });
  return parsePairing(text, path, ids);
}

/** The pairing in `text` (the contents of the file `path`, named in errors). */
export function parsePairing(text: string, path: string, ids: readonly NodeId[]): Pairing {
  const r = new Reader(text.replace(/^\uFEFF/, ""), path);
  const followers = r.document();
  const known = new Set<string>(ids);
  const fleet = ids.length > 0 ? `${ids[0]} … ${ids.at(-1)}` : "none";
  const out = new Map<NodeId, NodeId[]>();
  const seen = new Map<string, number>();
  for (const f of followers) {
    const fail = (line: number, problem: string): never => {
      throw new PairingFileError(path, line, problem);
    };
    if (!isNodeId(f.id)) fail(f.line, `follower ${JSON.stringify(f.id)} is not a node id (${ID_RULE})`);
    const first = seen.get(f.id);
    if (first !== undefined)
      fail(f.line, `${f.id} is listed again (first on line ${first}); list each follower once`);
    seen.set(f.id, f.line);
    if (!known.has(f.id)) fail(f.line, `follower ${f.id} is not a node of this fleet (${fleet})`);
    if (f.sources === undefined) {
      fail(f.line, `${f.id} must map to a list of source ids, like "${f.id}": ["${ids[0] ?? "n-0000"}"]`);
    }
    const sources = f.sources ?? [];
    if (sources.length > MAX_FOLLOWS)
      fail(f.line, `${f.id} follows ${sources.length} sources; at most ${MAX_FOLLOWS}`);
    for (const s of sources) {
      if (typeof s.id !== "string")
        fail(s.line, `a source of ${f.id} must be a node id in quotes (got ${JSON.stringify(s.id)})`);
      const id = s.id as string;
      if (!isNodeId(id))
        fail(s.line, `source ${JSON.stringify(id)} of ${f.id} is not a node id (${ID_RULE})`);
      if (id === f.id) fail(s.line, `${f.id} cannot follow itself`);
      if (!known.has(id)) fail(s.line, `source ${id} of ${f.id} is not a node of this fleet (${fleet})`);
    }
    out.set(NodeId(f.id), [...new Set(sources.map((s) => NodeId(s.id as string)))]);
  }
  return out;
}

interface Follower {
  readonly id: string;
  readonly line: number;
  /** Undefined when the value is not a list. */
  readonly sources:
    | { readonly id: string | number | boolean | null | object; readonly line: number }[]
    | undefined;
}

/** Just enough JSON to read a pairing file with the line of each follower and source. */
class Reader {
  private i = 0;
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly path: string,
  ) {
    for (let k = 0; k < text.length; k++) if (text[k] === "\n") this.lineStarts.push(k + 1);
  }

  document(): Follower[] {
    this.ws();
    if (this.text[this.i] !== "{") {
      const got = this.i >= this.text.length ? "an empty file" : this.describe(this.value());
      throw this.error(`must be a JSON object, { "follower": ["source", …], … } (got ${got})`, 0);
    }
    this.i++;
    const out: Follower[] = [];
    this.ws();
    if (this.peek("}")) return this.end(out);
    for (;;) {
      this.ws();
      const line = this.lineAt(this.i);
      if (this.text[this.i] !== '"') throw this.syntax("expected a follower id in quotes");
      const id = this.string();
      this.ws();
      this.expect(":");
      this.ws();
      if (this.text[this.i] === "[") out.push({ id, line, sources: this.list() });
      else {
        this.value();
        out.push({ id, line, sources: undefined });
      }
      this.ws();
      if (this.peek("}")) return this.end(out);
      this.expect(",", "}");
    }
  }

  private end(out: Follower[]): Follower[] {
    this.ws();
    if (this.i < this.text.length) throw this.syntax("unexpected text after the closing }");
    return out;
  }

  private list(): NonNullable<Follower["sources"]> {
    this.i++; // [
    const out: NonNullable<Follower["sources"]> = [];
    this.ws();
    if (this.peek("]")) return out;
    for (;;) {
      this.ws();
      const line = this.lineAt(this.i);
      out.push({ id: this.value() as string, line });
      this.ws();
      if (this.peek("]")) return out;
      this.expect(",", "]");
    }
  }

  private value(): unknown {
    const c = this.text[this.i];
    if (c === '"') return this.string();
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      this.i++;
      this.ws();
      if (this.peek(close)) return c === "{" ? {} : [];
      for (;;) {
        this.ws();
        if (c === "{") {
          if (this.text[this.i] !== '"') throw this.syntax("expected a key in quotes");
          this.string();
          this.ws();
          this.expect(":");
          this.ws();
        }
        this.value();
        this.ws();
        if (this.peek(close)) return c === "{" ? {} : [];
        this.expect(",", close);
      }
    }
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(
      this.text.slice(this.i, this.i + 64),
    );
    if (!m) throw this.syntax(this.i >= this.text.length ? "the file ends too early" : "expected a value");
    this.i += m[0].length;
    return JSON.parse(m[0]);
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (; this.i < this.text.length; this.i++) {
      const c = this.text[this.i];
      if (c === "\\") this.i++;
      else if (c === "\n") break;
      else if (c === '"') {
        this.i++;
        try {
          return JSON.parse(this.text.slice(start, this.i)) as string;
        } catch {
          throw this.error("a string with a bad escape", start);
        }
      }
    }
    throw this.error("a string without its closing quote", start);
  }

  private ws(): void {
    while (this.i < this.text.length && " \t\r\n".includes(this.text[this.i] as string)) this.i++;
  }

  private peek(c: string): boolean {
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }

  /** The separator `c`, where the list could also have ended with `or`. */
  private expect(c: string, or?: string): void {
    if (!this.peek(c)) throw this.syntax(`expected ${c}${or === undefined ? "" : ` or ${or}`}`);
  }

  private syntax(what: string): PairingFileError {
    const at = this.text[this.i];
    const got = at === undefined ? "the end of the file" : JSON.stringify(at);
    return this.error(`not valid JSON: ${what}, found ${got}`, this.i);
  }

  private error(problem: string, pos: number): PairingFileError {
    return new PairingFileError(this.path, this.lineAt(pos), problem);
  }

  private describe(v: unknown): string {
    return Array.isArray(v) ? "a list" : v === null ? "null" : `a ${typeof v}`;
  }

  private lineAt(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
