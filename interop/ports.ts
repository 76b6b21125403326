/**
 * Whether something listens on a loopback port: the readiness check of the servers the interop
 * suite starts (Mosquitto, the NATS members).
 */
import { connect } from "node:net";

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
