/**
 * The API's JSON bodies: fastify's parser, with the keys that name an object's prototype
 * (`__proto__`, `constructor`, `prototype`) refused as what they are — a field no request has,
 * named like any other (`body.__proto__: is not a field of this request`) — instead of fastify's
 * "not JSON" for a body that is valid JSON. A body nested deeper than any request is refused as
 * such: the walk for those keys recursed, and 5,000 levels (10 KB) overflowed the stack, which was
 * answered as "not JSON".
 */
import type { FastifyInstance } from "fastify";
import { ProblemError } from "./problem.js";

const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** No request body is nested deeper than a few levels. */
export const MAX_BODY_DEPTH = 32;

/**
 * The path to the first prototype key in `value` (`["a", "__proto__"]`), or undefined when none;
 * "too deep" past MAX_BODY_DEPTH levels.
 */
export function prototypeKeyPath(
  value: unknown,
  at: readonly string[] = [],
): string[] | "too deep" | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (at.length >= MAX_BODY_DEPTH) return "too deep";
  for (const [key, inner] of Object.entries(value)) {
    const here = [...at, Array.isArray(value) ? `[${key}]` : key];
    if (!Array.isArray(value) && PROTOTYPE_KEYS.has(key)) return here;
    const deeper = prototypeKeyPath(inner, here);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

/** Replaces `app`'s JSON parser with fastify's own that keeps such keys, then refuses them by name. */
export function useJsonBodies(app: FastifyInstance): void {
  // "ignore": JSON.parse makes `__proto__` an own data property, which sets no prototype; it is
  // refused below before any route sees the body.
  const parse = app.getDefaultJsonParser("ignore", "ignore");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const encoding = unreadEncoding(req.headers);
    if (encoding !== undefined) return done(new ProblemError(415, encoding, "body"), undefined);
    // The default parser answers through the callback; its return value (typed as a possible
    // promise) carries nothing.
    void parse(req, String(body), (err, value) => {
      if (err) return done(err, undefined);
      const at = prototypeKeyPath(value);
      if (at === undefined) return done(null, value);
      if (at === "too deep")
        return done(
          new ProblemError(
            400,
            `body: nested more than ${MAX_BODY_DEPTH} levels deep; no request is`,
            "body",
          ),
          undefined,
        );
      const field = `body.${at.join(".").replace(/\.\[/g, "[")}`;
      done(new ProblemError(400, `${field}: is not a field of this request`, field), undefined);
    });
  });
}

/**
 * What makes a body unreadable as JSON text here, if anything: a Content-Encoding (gzip, …) or a
 * charset other than UTF-8 (RFC 8259 §8.1: JSON between systems is UTF-8). Read as UTF-8 anyway,
 * such a body was parsed as what it is not.
 */
function unreadEncoding(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const coding = String(headers["content-encoding"] ?? "identity")
    .trim()
    .toLowerCase();
  if (coding !== "identity" && coding !== "")
    return `body: is sent with Content-Encoding ${coding}; send it unencoded (identity)`;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(headers["content-type"] ?? ""))?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset))
    return `body: is in charset ${charset}; send JSON in UTF-8`;
  return undefined;
}
