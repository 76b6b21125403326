/**
 * ioredis's own console lines, told through the broker's log instead. Some answers of Redis to the
 * commands ioredis sends on each (re)connect make it write a line of its own to the console, past the
 * broker's logger (a line without time or level, not JSON under `--log-format json`), on every one of
 * the broker's Redis connections at start and again at every reconnect:
 *
 * - AUTH answered that Redis needs no password, when `--redis` gives one: `[WARN] … does not
 *   require a password, but a password was supplied`;
 * - AUTH with a user name refused by Redis 5 or older (which takes a password alone): `[ERROR] …
 *   wrong number of arguments for 'auth' command` (the connection is then not logged in);
 * - INFO refused to a user its access rules do not allow it (`NOPERM`): `Skipping the ready check …`.
 *
 * Each connection's `auth` and `info` are wrapped so that these answers reach ioredis as what it
 * made of them anyway (AUTH done, INFO with no facts: it goes on as it did after printing), and the
 * condition is logged once for the store, with what to do about it.
 */
import type { Logger } from "pino";

type Callback = (err?: Error | null, result?: unknown) => void;

interface Quieted {
  readonly command: "auth" | "info";
  /** Text of Redis's error answer that ioredis prints a line for. */
  readonly answer: string;
  /** What ioredis is handed instead: what it made of the error itself. */
  readonly result: unknown;
  readonly level: "warn" | "error";
  readonly msg: string;
}

/** Redis 6+ and Redis 5 word the answer differently; the advice is one. */
const NO_PASSWORD =
  "Redis needs no password, but --redis gives one: it is ignored, and anyone who can reach Redis can read and change the brokers' store; set a password on Redis (requirepass), or leave it out of the URL";

const QUIETED: readonly Quieted[] = [
  {
    command: "auth",
    answer: "no password is set",
    result: "OK",
    level: "warn",
    msg: NO_PASSWORD,
  },
  {
    command: "auth",
    answer: "without any password configured for the default user",
    result: "OK",
    level: "warn",
    msg: NO_PASSWORD,
  },
  {
    command: "auth",
    answer: "wrong number of arguments for 'auth' command",
    result: "OK",
    level: "error",
    msg: "Redis refused the login: it takes a password alone (Redis 5 or older), and --redis gives a user name too, so the broker is not logged in; give the password alone, redis://:PASSWORD@host",
  },
  {
    command: "info",
    answer: "NOPERM",
    result: "",
    level: "warn",
    msg: "Redis refuses INFO to the --redis user, so a (re)connect does not wait while Redis is still loading its data (commands then fail until it has); allow the user INFO (ACL SETUSER … +info)",
  },
];

/**
 * What quiets a connection's console lines for the answers above, each condition logged once for all
 * the connections it is given, naming `where` (the Redis URL, password hidden). Give it a connection
 * before it connects (`lazyConnect`), or in the tick it is made: ioredis sends AUTH and INFO once the
 * socket is open.
 */
export function redisConsoleQuieter(where: string, logger: Logger): (conn: object) => void {
  const told = new Set<string>();
  return (conn) => {
    const target = conn as Record<string, unknown>;
    for (const command of ["auth", "info"] as const) {
      const original = target[command];
      if (typeof original !== "function") continue;
      target[command] = (...args: unknown[]) => {
        const done = args.at(-1);
        if (typeof done !== "function") return original.apply(conn, args);
        const answered: Callback = (err, result) => {
          const quiet =
            err instanceof Error
              ? QUIETED.find((q) => q.command === command && err.message.includes(q.answer))
              : undefined;
          if (quiet === undefined) return (done as Callback)(err, result);
          if (!told.has(quiet.msg)) {
            told.add(quiet.msg);
            logger[quiet.level]({ redis: where, answer: err?.message }, quiet.msg);
          }
          return (done as Callback)(null, quiet.result);
        };
        return original.apply(conn, [...args.slice(0, -1), answered]);
      };
    }
  };
}
