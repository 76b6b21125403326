/**
 * What LevelDB dropped while opening the data directory. A log file damaged in the middle (a bad
 * disk block, a write reordered by a power loss) is not an error to LevelDB: it keeps the records
 * it can read and skips the rest, saying so only in its own `LOG` file ("(ignoring error)
 * ./000003.log: dropping 2901 bytes; Corruption: checksum mismatch"). Those records are retained
 * messages, sessions and wills the broker had taken: an operator should hear of it. LevelDB starts a
 * new `LOG` (the previous one becomes `LOG.old`) each time it opens, so what it holds after the open
 * is that open's own account.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The damage LevelDB skipped over while opening: bytes dropped, and its reasons in its words. */
export interface RecoveryLoss {
  readonly bytes: number;
  readonly reasons: readonly string[];
}

/** `(ignoring error) <file>: dropping <n> bytes; <reason>`, as LevelDB's log reader reports it. */
const DROPPED = /\(ignoring error\) .*?: dropping (\d+) bytes; (.+)$/;

/** The damage named in LevelDB's `LOG` text, if any. */
export function recoveryLossIn(logText: string): RecoveryLoss | undefined {
  let bytes = 0;
  const reasons: string[] = [];
  for (const line of logText.split("\n")) {
    const m = DROPPED.exec(line);
    if (!m) continue;
    bytes += Number(m[1]);
    const reason = (m[2] ?? "").trim();
    if (!reasons.includes(reason)) reasons.push(reason);
  }
  return bytes > 0 ? { bytes, reasons } : undefined;
}

/** The damage the open of `dataDir` skipped over; undefined when there was none or no LOG to read. */
export async function recoveryLoss(dataDir: string): Promise<RecoveryLoss | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, "LOG"), "utf8");
  } catch {
    return undefined;
  }
  return recoveryLossIn(text);
}

/** One line for an operator: where, how much, why, and what comes back by itself. */
export function recoveryLossMessage(dataDir: string, loss: RecoveryLoss): string {
  return (
    `data directory ${dataDir}: LevelDB found its log damaged and dropped ${loss.bytes.toLocaleString("en-US")} bytes ` +
    `of it while opening (${loss.reasons.join("; ")}): retained messages, sessions or wills written ` +
    "before the broker stopped are lost. Each node puts back its retained report and config when it next " +
    "connects; messages queued for offline persistent sessions do not come back"
  );
}
