/**
 * A password read from a file or stdin: its first line, read no further than an MQTT CONNECT can
 * carry (65,535 bytes), so `--password-file /dev/zero` or a binary file piped to `hash-password`
 * is refused by name instead of filling memory or becoming a password no client can send.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** The longest password an MQTT CONNECT carries (a two-byte length, MQTT 3.1.1 §1.5.3). */
export const MAX_PASSWORD_BYTES = 65_535;

/** Why `line` cannot be a password, or undefined: too long for MQTT, or a control character in it. */
export function passwordProblem(line: string): string | undefined {
  const bytes = Buffer.byteLength(line, "utf8");
  if (bytes > MAX_PASSWORD_BYTES) {
    return `is ${bytes > 1_000_000 ? "over 1 MB" : `${bytes} bytes`} long: an MQTT CONNECT carries at most ${MAX_PASSWORD_BYTES} bytes of password`;
  }
  const control = controlCharacter(line, { tab: true });
  return control === undefined ? undefined : `holds a control character (${control}): is it a text file?`;
}

/** The first control character in `text` as `U+000A at character 5`; undefined when there is none. */
export function controlCharacter(text: string, allow: { readonly tab: boolean }): string | undefined {
  const control = (allow.tab ? CONTROL_BUT_TAB : CONTROL).exec(text);
  if (control === null) return undefined;
  const code = (control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  return `U+${code} at character ${control.index + 1}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The first line so far and whether it ran past the longest password before its end. */
export interface FirstLine {
  readonly line: string;
  readonly cut: boolean;
}

/** Takes chunks until the first line ends or runs past the longest password; `add` says when. */
function lineScan(): { add(chunk: Buffer): boolean; result(): FirstLine } {
  const limit = MAX_PASSWORD_BYTES + 2; // a password and its "\r\n"
  const parts: Buffer[] = [];
  let bytes = 0;
  return {
    add(chunk) {
      const nl = chunk.indexOf(0x0a);
      parts.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
      bytes += nl >= 0 ? nl : chunk.length;
      return nl >= 0 || bytes > limit;
    },
    result() {
      const all = Buffer.concat(parts).subarray(0, limit);
      const text = all.toString("utf8");
      return { line: text.endsWith("\r") ? text.slice(0, -1) : text, cut: bytes > limit };
    },
  };
}

/** The first line of `file`, read no further than `lineScan` needs. */
export function fileFirstLine(file: string): FirstLine {
  const scan = lineScan();
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(16_384);
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0 || scan.add(Buffer.from(buf.subarray(0, got)))) break;
    }
  } finally {
    closeSync(fd);
  }
  return scan.result();
}

/** The first line of a stream (stdin), read no further than `lineScan` needs. */
export async function streamFirstLine(stream: AsyncIterable<Buffer | string>): Promise<FirstLine> {
  const scan = lineScan();
  for await (const chunk of stream) {
    if (scan.add(typeof chunk === "string" ? Buffer.from(chunk) : chunk)) break;
  }
  return scan.result();
}
