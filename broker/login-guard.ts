/**
 * Password checks that a flood cannot turn against everyone else. A check is a scrypt hash (~50 ms
 * on the libuv threadpool, 4 threads shared with the LevelDB store and the file system); aedes
 * started one per CONNECT at once, so 400 wrong passwords from one address queued 400 hashes in
 * the threadpool ahead of anybody's valid login (12.3 s). Here checks run a few at a time, taken from
 * the waiting addresses in turn, so one address's backlog never delays another's login by more than
 * the checks already running; a ban (broker/admission.ts) that starts meanwhile refuses the rest of
 * that backlog with CONNACK 0x05 without hashing anything.
 */
import type { AuthenticateError, AuthenticateHandler, Client } from "aedes";
import type { Admission, Refusal } from "./admission.js";

/** Runs tasks at most `concurrency` at once, one address after another (round robin). */
export class LoginQueue {
  /** Insertion order is the turn order: an address served goes to the back. */
  readonly #queues = new Map<string, (() => Promise<void>)[]>();
  #running = 0;

  constructor(private readonly concurrency: number) {}

  run(address: string, task: () => Promise<void>): void {
    const queue = this.#queues.get(address);
    if (queue === undefined) this.#queues.set(address, [task]);
    else queue.push(task);
    this.#pump();
  }

  /** Tasks waiting (not running), all addresses together. */
  get waiting(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  #pump(): void {
    while (this.#running < this.concurrency) {
      const next = this.#queues.entries().next();
      if (next.done === true) return;
      const [address, queue] = next.value;
      const task = queue.shift();
      this.#queues.delete(address);
      if (queue.length > 0) this.#queues.set(address, queue);
      if (task === undefined) continue;
      this.#running += 1;
      task()
        .catch(() => undefined)
        .finally(() => {
          this.#running -= 1;
          this.#pump();
        });
    }
  }
}

/** A login refused by a ban, before any password check: CONNACK 0x05, then the connection closes. */
export class LoginRefusedError extends Error {
  override readonly name = "LoginRefusedError";
  readonly returnCode = 5 as const;
  constructor(readonly refusal: Refusal) {
    super(refusal.kind === "username-banned" ? "username banned" : "address banned");
  }
}

export interface LoginGuard {
  readonly admission: Admission;
  readonly queue: LoginQueue;
  /** What the limits count a client's connection under (its IPv4 address, its IPv6 /64). */
  addressOf(client: Client): string;
  /** The connection's own source address (within that prefix). */
  hostOf(client: Client): string;
}

/** `inner` (the access policy's check) behind the queue and the bans; outcomes feed the bans. */
export function guardAuthenticate(inner: AuthenticateHandler, guard: LoginGuard): AuthenticateHandler {
  const { admission, queue } = guard;
  return (client, username, password, done) => {
    const address = guard.addressOf(client);
    const host = guard.hostOf(client);
    const refuse = (refusal: Refusal) =>
      done(new LoginRefusedError(refusal) as LoginRefusedError & AuthenticateError, false);
    const early = admission.loginRefusal(address, username, host);
    if (early !== undefined) return refuse(early);
    queue.run(
      address,
      () =>
        new Promise<void>((resolve) => {
          // Gone while it waited: nothing to check (aedes ignores an answer for a closed client).
          if (client.closed) return resolve();
          // A ban may have started while it waited: the rest of a flood costs no hash.
          const late = admission.loginRefusal(address, username, host);
          if (late !== undefined) {
            refuse(late);
            return resolve();
          }
          inner(client, username, password, (err, ok) => {
            admission.recordLogin(address, username, err === null && ok === true, host);
            resolve();
            done(err, ok);
          });
        }),
    );
  };
}
