/**
 * `Expect: 100-continue`: the 100 is sent once the request has passed every check that needs no body
 * (Host, route, method, token, a declared length within the body limit, a JSON content type), right
 * before its body is read; a request refused before that gets its final answer alone. Node sent the
 * 100 as soon as the headers were in, so a client holding a 5 MB body, or a write without the token,
 * was told to send it and then refused (100, then 413 or 401).
 */
import type { FastifyInstance } from "fastify";

export function continueOnceChecked(app: FastifyInstance, bodyLimit: number): void {
  // With a listener here Node sends no 100 of its own, and the request is this listener's to pass on.
  app.server.on("checkContinue", (req, res) => app.server.emit("request", req, res));
  // preParsing: after onRequest (Host, route, token), before the body is read and its limit checked.
  app.addHook("preParsing", async (req, reply, payload) => {
    if (!/\b100-continue\b/i.test(req.headers.expect ?? "") || reply.raw.headersSent) return payload;
    const length = Number(req.headers["content-length"] ?? Number.NaN);
    if (length > bodyLimit) return payload;
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return payload;
    reply.raw.writeContinue();
    return payload;
  });
}
