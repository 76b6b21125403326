/**
 * Reading an HTTP answer's body up to a bound: a peer that sends without end, or hundreds of
 * megabytes (a wrong URL, a proxy's page, something that is not the service asked), is cut off at
 * the bound, the rest not read, instead of filling the memory. Used by every client of a running
 * service: the view's remote minutes (view/minutes-feed.ts), `set --via` and `broker backup`.
 */

/** The body read whole, or how far it came: `over` when it passed `max` bytes (the rest not read). */
export type BodyRead =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "over"; readonly bytes: number }
  | { readonly kind: "cut"; readonly bytes: number; readonly error: unknown };

/** Reads `response`'s body, at most `max` bytes: past them the connection is let go. */
export async function readBounded(response: Response, max: number): Promise<BodyRead> {
  const body = response.body;
  if (body === null) return { kind: "text", text: "" };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > max) {
        await reader.cancel().catch(() => {});
        return { kind: "over", bytes };
      }
      parts.push(value);
    }
  } catch (error) {
    return { kind: "cut", bytes, error };
  }
  return { kind: "text", text: Buffer.concat(parts).toString("utf8") };
}

/** `bytes` for a sentence: `4 MB`, `64 kB`, `812 bytes` (whole MiB and KiB, as the bounds are set). */
export function shownBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} kB`;
  return `${bytes} bytes`;
}
