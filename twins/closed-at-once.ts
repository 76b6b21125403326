/**
 * A connection the broker closes before its CONNACK, without a reset: a broker at its open-files
 * limit (the operating system accepts and closes each new connection: docs/broker.md, "Open files"),
 * one at its connection limit (Mosquitto's max_connections), or one that has banned the address.
 * MQTT.js tells no error then: with reconnectPeriod 0 it emits `close` alone, so its connectAsync
 * never settled (neither connect, error nor end), and with a reconnect period it connects again at
 * once, for ever. `sim --broker` hung so before its first line, stops and all, against a
 * `twinfleet broker` that had run out of files. connectClient settles every way: connected, the
 * connection closed at once, an error, the CONNACK not come in time, or the caller's stop.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { BrokerConnectError, connectError, connectTimeoutError, displayUrl } from "./connection.js";

/** The error for a connection the broker closed before its CONNACK, without an error. */
export function closedAtOnceError(url: string): BrokerConnectError {
  return new BrokerConnectError(
    `cannot reach the broker at ${displayUrl(url)}: it closed the connection at once, before its CONNACK (a broker at its open-files limit, ulimit -n, or its connection limit closes every new connection so, as does one that has banned this address)`,
    "unreachable",
  );
}

/**
 * Calls `closed` when `client`'s connection closes before its first CONNACK with no error told
 * (a close after an error, a refusal or our own connack timeout, is the error's); returns the
 * unwatch. Each attempt counts: a client that reconnects is told at its first such close.
 */
export function onClosedAtOnce(client: MqttClient, closed: () => void): () => void {
  let failed = false;
  const error = () => {
    failed = true;
  };
  const close = () => {
    const told = failed;
    failed = false;
    if (!told && !client.disconnecting && !client.disconnected) closed();
  };
  const connect = () => unwatch();
  const unwatch = () => {
    client.off("error", error);
    client.off("close", close);
    client.off("connect", connect);
  };
  client.on("error", error);
  client.on("close", close);
  client.on("connect", connect);
  return unwatch;
}

/**
 * Calls `closed` at each connection of `client` that closes before its CONNACK with no error told,
 * for as long as it runs: a long-lived client's reconnects to a broker restarted into its open-files
 * limit, which MQTT.js tells nothing of. A connection that was up, then dropped, is no such close.
 */
export function onEachClosedAtOnce(client: MqttClient, closed: () => void): void {
  let failed = false;
  let up = false;
  client.on("error", () => {
    failed = true;
  });
  client.on("connect", () => {
    up = true;
  });
  client.on("close", () => {
    const told = failed || up;
    failed = false;
    up = false;
    if (!told && !client.disconnecting && !client.disconnected) closed();
  });
}

/**
 * The BrokerConnectError for `err` of a connection to `url`: itself if it is one (closedAtOnceError),
 * `timedOut()` for MQTT.js's own CONNACK timer, else connectError's line.
 */
export function failedConnect(
  err: unknown,
  url: string,
  password: string | undefined,
  timedOut: () => BrokerConnectError,
): BrokerConnectError {
  if (err instanceof BrokerConnectError) return err;
  return err instanceof Error && err.message === "connack timeout"
    ? timedOut()
    : connectError(err, url, password);
}

/**
 * MQTT.js's connectAsync, settled every way: the connected client; or, its client ended, a
 * BrokerConnectError (refused, unreachable, closed at once, no CONNACK within `connectTimeout`,
 * 30 s if not given); or, on `signal`'s abort, the signal's reason.
 */
export function connectClient(
  url: string,
  options: IClientOptions,
  signal?: AbortSignal,
): Promise<MqttClient> {
  const password = typeof options.password === "string" ? options.password : undefined;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const client = mqtt.connect(url, options);
    const settle = (e?: unknown) => {
      unwatch();
      client.off("error", failed);
      client.off("connect", connected);
      signal?.removeEventListener("abort", aborted);
      if (e === undefined) return resolve(client);
      client.end(true);
      reject(e);
    };
    const timedOut = () => connectTimeoutError(url, options.connectTimeout ?? 30_000);
    const failed = (err: Error) => settle(failedConnect(err, url, password, timedOut));
    const connected = () => settle();
    const aborted = () => settle(signal?.reason);
    const unwatch = onClosedAtOnce(client, () => settle(closedAtOnceError(url)));
    client.on("error", failed);
    client.on("connect", connected);
    signal?.addEventListener("abort", aborted);
  });
}
