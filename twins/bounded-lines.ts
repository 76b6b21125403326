/**
 * A data file of lines read with each line bounded (twins/history-file.ts): a line longer than
 * `maxLine` bytes (a hand's edit, another program's output written over the file) is passed over
 * as it is read, its length kept to name it, so that a start holds the file's ordinary lines and no
 * more, never one line of hundreds of megabytes as a string.
 */
import { open } from "node:fs/promises";

/** The file's lines (an over-long one as ""), and the over-long ones' lengths by index. */
export interface BoundedLines {
  readonly lines: string[];
  readonly long: ReadonlyMap<number, number>;
}

const CHUNK = 1024 * 1024;

export async function readBoundedLines(file: string, maxLine: number): Promise<BoundedLines> {
  const fh = await open(file, "r");
  const lines: string[] = [];
  const long = new Map<number, number>();
  let parts: Buffer[] = [];
  let bytes = 0;
  const end = () => {
    if (bytes > maxLine) long.set(lines.length, bytes);
    lines.push(bytes > maxLine ? "" : Buffer.concat(parts).toString("utf8"));
    parts = [];
    bytes = 0;
  };
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let at = 0;
      while (at < bytesRead) {
        const nl = buf.indexOf(0x0a, at);
        const stop = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        bytes += stop - at;
        if (bytes <= maxLine) parts.push(Buffer.from(buf.subarray(at, stop)));
        else parts = [];
        if (stop === bytesRead) break;
        end();
        at = stop + 1;
      }
    }
    if (bytes > 0 || parts.length > 0) end();
  } finally {
    await fh.close();
  }
  return { lines, long };
}
