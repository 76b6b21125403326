/**
 * A refused login tried again after pauses that double (twins/reconnect-failures.ts), not every
 * reconnect period: a broker bans an address that keeps failing to log in, and a control server
 * whose login was revoked, trying every second, had its host's address banned within ten seconds
 * and every device behind it refused. Real sockets on port 0, the access rules reloaded under it.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { oneLoginBroker } from "../../broker/test/one-login.js";
import { isRefusal, REFUSED_RETRY_MAX_MS, refusedPause } from "../refusal-backoff.js";
import { startTwins } from "../service.js";
import { memoryStore } from "../store.js";
import { changed, until } from "./helpers.js";
import { cleanupAfterEach } from "./own-broker.js";

const cleanup = cleanupAfterEach();

const refusedLogin = Object.assign(new Error("Connection refused: Bad username or password"), { code: 4 });
const refusedPort = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

it("doubles the pause at each refusal in a row up to a minute, and starts again from the period", () => {
  expect(Array.from({ length: 9 }, (_, n) => refusedPause(1000, n))).toEqual([
    1000,
    2000,
    4000,
    8000,
    16_000,
    32_000,
    REFUSED_RETRY_MAX_MS,
    REFUSED_RETRY_MAX_MS,
    REFUSED_RETRY_MAX_MS,
  ]);
  // A watch client retries every 200 ms while the broker is away, refusals backed off from 1 s.
  expect([0, 1, 2].map((n) => refusedPause(200, n, 1000))).toEqual([200, 2000, 4000]);
  expect(isRefusal(refusedLogin)).toBe(true);
  expect(isRefusal(refusedPort)).toBe(false);
});

it("waits longer after each refusal once its login is revoked, says so once, and is back once it is restored", async () => {
  const site = await oneLoginBroker("ctl", "pw-ctl");
  const { broker } = site;
  cleanup.push(() => broker.close());
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const twins = await startTwins({
    url: broker.url,
    username: "ctl",
    password: "pw-ctl",
    store: memoryStore(),
    logger,
    reconnectPeriodMs: 50,
  });
  cleanup.push(() => twins.close());
  const up: boolean[] = [];
  twins.on("broker", (isUp: boolean) => {
    up.push(isUp);
    changed();
  });

  // Each refused login, as the broker counted it, and when.
  const refusedAt: number[] = [];
  const poll = setInterval(() => {
    while (refusedAt.length < broker.figures.tally.refused["bad-login"]) refusedAt.push(performance.now());
    changed();
  }, 2);
  cleanup.push(async () => clearInterval(poll));

  await site.revoke();
  await until(() => refusedAt.length >= 5, "five refused logins", 20_000);
  // Timers never fire early: the 5th attempt came at least the 4th pause (50 ms doubled four times)
  // after the 4th; at the period it would have come about 50 ms after it.
  expect(refusedAt[4]! - refusedAt[3]!).toBeGreaterThanOrEqual(750);
  const told = lines.filter((l) => /refused the connection: bad user name or password/.test(l.msg));
  expect(told.map((l) => l.level)).toEqual([40]);
  expect(told[0]?.msg).toMatch(
    /trying again in 0\.1 s, then after pauses that double up to 60 s \(a broker bans an address/,
  );

  await site.restore();
  await until(() => up.at(-1) === true, "the twins service connected again", 20_000);
  expect(up).toEqual([false, true]);
});
