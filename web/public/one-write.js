// A node page's writes, one at a time: each is answered before the next is sent. A server that does
// not answer (stopped, overloaded, a network that drops packets) is said after a few seconds, and a
// write asked for meanwhile is refused with a word; it used to be dropped without one.

import { say } from "./ui.js";

/** Seconds without the server's answer before the page says a write is still waiting. */
export const SLOW_S = 5;

/**
 * Returns `send(what, fn)`: runs `fn` (the request) unless another is waiting for its answer, with
 * `el` marked busy meanwhile. Resolves `{ answer }`, `{ error }`, or `{ refused: true }` (not sent).
 */
export function oneWrite(el) {
  let sending;
  return async (what, fn) => {
    if (sending) {
      const s = Math.round((performance.now() - sending.since) / 1000);
      say(
        `Not sent: ${what}. The server has not answered ${sending.what} yet (sent ${s} s ago), and changes go one at a time: try again once it is answered.`,
        "error",
      );
      return { refused: true };
    }
    sending = { what, since: performance.now() };
    el.classList.add("busy");
    const slow = setTimeout(
      () =>
        say(
          `No answer from the server for ${SLOW_S} s to ${what}: it may be stopped or overloaded. The change is applied if the server takes it when it answers; this page says which then.`,
          "warn",
          { stay: true },
        ),
      SLOW_S * 1000,
    );
    try {
      return { answer: await fn() };
    } catch (error) {
      return { error };
    } finally {
      clearTimeout(slow);
      sending = undefined;
      el.classList.remove("busy");
    }
  };
}
