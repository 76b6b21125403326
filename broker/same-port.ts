/**
 * The broker's listeners each need a port of their own: `--ws-port` or `--tls-port` on the MQTT port
 * (given, or the default), or `--tls-port` on the WebSocket one, is a usage error naming both.
 */
import type { z } from "zod";

/**
 * One port given to two listeners (`--ws-port 1883` beside the default `--port`): the second could
 * not listen, and the broker said its port was in use, as if by another process.
 */
export function samePort(
  o: { port?: number | undefined; wsPort?: number | undefined; tlsPort?: number | undefined },
  defaultPort: number,
  ctx: z.RefinementCtx,
): void {
  const mqtt = o.port ?? defaultPort;
  for (const [key, port] of [
    ["wsPort", o.wsPort],
    ["tlsPort", o.tlsPort],
  ] as const) {
    if (port === undefined || port === 0) continue;
    const other =
      port === mqtt && mqtt !== 0
        ? `the MQTT port (--port${o.port === undefined ? `, default ${defaultPort}` : ""})`
        : key === "tlsPort" && port === o.wsPort
          ? "the WebSocket port (--ws-port)"
          : undefined;
    if (other !== undefined)
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `is ${other} too: each listener needs a port of its own`,
      });
  }
}
