/**
 * A peer that is not the service a client expects, for the tests of the clients that must not read
 * it without bound (`set --via`, `broker backup`, `monitor --via`): an HTTP server on port 0, closed
 * after each test, and an answer without end that counts what it got into the socket and tells when
 * the client let it go.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach } from "vitest";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** `serve(handler)` starts a server on 127.0.0.1, port 0, closed after each test; its origin. */
export function fakePeers(): { serve(handler: Handler): Promise<string> } {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((done) => s.close(() => done()));
    }
  });
  return {
    async serve(handler) {
      const s = createServer(handler);
      servers.push(s);
      await new Promise<void>((ready) => s.listen(0, "127.0.0.1", ready));
      const address = s.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      return `http://127.0.0.1:${address.port}`;
    },
  };
}

/** An answer without end: what the peer got into the socket, and when the client let it go. */
export interface Endless {
  readonly sent: () => number;
  readonly gone: Promise<void>;
  /** Writes `res`'s head and `first`, then `chunk` for as long as the client takes it. */
  readonly answer: (
    res: ServerResponse,
    status: number,
    type: string,
    first: string | Buffer,
    chunk: string | Buffer,
  ) => void;
}

export function endless(): Endless {
  let sent = 0;
  let closed!: () => void;
  const gone = new Promise<void>((r) => {
    closed = r;
  });
  return {
    sent: () => sent,
    gone,
    answer(res, status, type, first, chunk) {
      res.writeHead(status, { "content-type": type });
      if (first.length > 0) res.write(first);
      const more = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      };
      res.on("drain", more);
      res.on("close", closed);
      more();
    },
  };
}
