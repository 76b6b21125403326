/**
 * The live-fleet source's commands over the twins service (a stand-in with the service's shape):
 * sent through the service, the broker away told as unavailable or deferred, a pairing of a node
 * offline told pending until it returns, and the actions a real fleet cannot do refused.
 */
import { expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { BrokerUnavailableError } from "../../twins/index.js";
import { CommandUnavailable } from "../source.js";
import { TwinsSource } from "../twins-source.js";
import { a, b, FakeTwins, twin } from "./fake-twins.js";

it("sends set, pair, unpair and query through the service; refuses the rest", async () => {
  const t = new FakeTwins();
  const s = new TwinsSource(t, "mqtt://x");
  await s.set(a, true);
  await s.pair(b, a);
  await s.unpair(b, a);
  await s.query();
  expect(t.calls).toEqual(["set a true", "pair b a", "unpair b a", "query"]);
  expect(s.capabilities).toMatchObject({ press: false, setLoss: false, set: true, pair: true });
  await expect(s.press()).rejects.toThrow("press is not available for this fleet");
  await expect(s.setLoss()).rejects.toThrow("setLoss is not available");
});

it("passes on the broker away: a set or query refused as unavailable, a pairing deferred with a warning", async () => {
  const t = new FakeTwins();
  const url = "mqtt://x:1883";
  const why = `the broker at ${url} is not reachable (the connection was lost 12 s ago; reconnecting)`;
  const away = (what: string) =>
    new BrokerUnavailableError(`${why}: ${what} was not sent`, url, "lost", false, why);
  t.set = () => Promise.reject(away("the set"));
  t.query = () => Promise.reject(away("the query"));
  t.pair = async () => ({ sent: false, why });
  const s = new TwinsSource(t, url);
  const lines: string[] = [];
  s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
  const set = await s.set(a, true).catch((e: unknown) => e);
  expect(set).toBeInstanceOf(CommandUnavailable);
  expect(set).toMatchObject({ message: `${why}: the set was not sent` });
  await expect(s.query()).rejects.toThrow(`${why}: the query was not sent`);
  const later = `${why}: the pairing (b follows a) is stored, and sent once the broker is back and b registers`;
  expect(await s.pair(b, a)).toEqual({ deferred: later });
  const pending =
    "b no longer follows a: pending until b returns (it is offline; its config is written for it on the broker)";
  expect(await s.unpair(b, a)).toEqual({ deferred: pending });
  expect(lines).toEqual([`warn ${later}`, `warn ${pending}`]);
});

it("tells a pairing of a node offline pending until the node returns, and done once it confirms it", async () => {
  const t = new FakeTwins();
  const s = new TwinsSource(t, "mqtt://x");
  const lines: string[] = [];
  s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
  // b is offline: its config is written for it, and nothing is carried out until it comes back; the
  // caller is told so as the log is (the web API's 202), not answered as if it were done.
  const told =
    "b follows a: pending until b returns (it is offline; its config is written for it on the broker)";
  expect(await s.pair(b, a)).toEqual({ deferred: told });
  expect(lines).toEqual([`warn ${told}`]);
  t.emit("twin-updated", twin(b, { presence: "offline", pairing: "pending" }), "desired");
  t.emit("twin-online", twin(b, { pairing: "pending" }));
  expect(lines.slice(1)).toEqual(["info b online"]);
  // Its own config, listing a, confirms it: the line says it is done now.
  t.emit(
    "twin-updated",
    twin(b, { pairing: "confirmed", follows: [a], desired: { sources: [a], configVersion: 2 } }),
    "config",
  );
  t.emit(
    "twin-updated",
    twin(b, { pairing: "confirmed", follows: [a], desired: { sources: [a], configVersion: 2 } }),
    "report",
  );
  expect(lines.slice(2)).toEqual(["info b follows a: confirmed by b on its return"]);
  // A pairing another control tool replaced while b was away is not told done.
  await s.unpair(b, a);
  await s.pair(b, NodeId("c"));
  t.emit(
    "twin-updated",
    twin(b, { pairing: "confirmed", desired: { sources: [a], configVersion: 3 } }),
    "config",
  );
  expect(lines.slice(5)).toEqual([
    "warn b no longer follows a: not carried out, b confirmed following a (its pairing replaced)",
    "warn b follows c: not carried out, b confirmed following a (its pairing replaced)",
  ]);
  lines.splice(3);
  // A node online is told done at once, as before.
  expect(await s.pair(a, b)).toBeUndefined();
  expect(lines.slice(3)).toEqual(["info a follows b"]);
});

it("tells a pairing of a node offline that was already desired as nothing written, not as a config written", async () => {
  const t = new FakeTwins();
  t.pair = async () => ({ sent: true, already: true });
  const s = new TwinsSource(t, "mqtt://x");
  const told =
    "b follows a: pending until b returns (it is offline; the pairing was already desired: nothing written, its config on the broker stands)";
  // It said "its config is written for it on the broker" of a config nobody wrote.
  expect(await s.pair(b, a)).toEqual({ deferred: told });
});
