/**
 * The page's files: `GET /` is `web/public/index.html`, `GET /app/*` any file under `web/public/`.
 * Paths are resolved inside that folder only (no `..`, no absolute paths, no hidden files); types by
 * extension; files are read per request (the page is a handful of small modules).
 */
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { packageRoot } from "../node/paths.js";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** The package's `web/public/`, whether this runs from the sources or from dist/. */
export function publicRoot(): string {
  return join(packageRoot(), "web", "public");
}

export interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

/** The file at `rel` (relative to the root), or undefined when there is none or it is out of bounds. */
export async function staticFile(root: string, rel: string): Promise<StaticFile | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.startsWith("/") || decoded.startsWith("\\")) return undefined;
  const clean = normalize(decoded);
  if (clean.startsWith("..") || clean.split(/[\\/]/).some((p) => p.startsWith("."))) return undefined;
  const type = TYPES[extname(clean).toLowerCase()];
  if (type === undefined) return undefined;
  try {
    return { type, body: await readFile(join(root, clean)) };
  } catch {
    return undefined;
  }
}
