/**
 * A deadline judged after the I/O that is ready when it comes due. Node runs the timers that came
 * due before it polls the sockets: after the process did not run for a while (SIGSTOP, a VM paused
 * for migration, a swapping host, a long GC pause), every deadline that passed meanwhile fired
 * before the connections and packets waiting in the kernel were taken, and judged peers silent that
 * had answered in time. Aedes's keepalive check is patched to the same order (patches/aedes+1.2.0.patch).
 */

export interface Deadline {
  /** False when what it waited for was handled meanwhile (a CONNECT read): nothing more to do. */
  readonly due: () => boolean;
  /** True when the ready I/O shows the peers are not silent (bytes or connections not handled yet). */
  readonly heard: () => boolean;
  /** Called instead of `expire` when `heard`: the deadline is extended. */
  readonly extend: () => void;
  readonly expire: () => void;
}

/** Called when a deadline's timer fires: it is judged once the I/O that is ready now is handled. */
export function judgeAfterReadyIo(deadline: Deadline): void {
  setImmediate(() => {
    if (!deadline.due()) return;
    if (deadline.heard()) deadline.extend();
    else deadline.expire();
  });
}
