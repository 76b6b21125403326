/**
 * A long-lived client whose broker refuses it (a CONNACK with a non-zero code: a login revoked or
 * rotated, a client id its rules no longer take, a broker not serving yet) keeps trying, after pauses
 * that double up to a minute, and at its reconnect period again once connected. MQTT.js gives up for
 * good at the first refusal unless told `reconnectOnConnackError`: a twins service refused once during
 * an outage never connected again, even after its login was put back. And a refused login tried every
 * second gets the address banned (`twinfleet broker --login-failures`, 10 a minute; a site's fail2ban
 * on Mosquitto's log alike), and every node, board and tool behind that address with it.
 */
import type { IClientOptions, MqttClient } from "mqtt";
import { refusalText } from "./connection.js";

/** The longest pause between two attempts after refusals. */
export const REFUSED_RETRY_MAX_MS = 60_000;

/** The connect options that keep a client trying after a refusal (with backOffRefusals). */
export const RETRY_REFUSALS: Pick<IClientOptions, "reconnectOnConnackError"> = {
  reconnectOnConnackError: true,
};

/** Whether `err` is a broker's refusal: MQTT.js's error for a CONNACK with a non-zero code. */
export function isRefusal(err: unknown): boolean {
  return refusalText(err) !== undefined;
}

/** Calls `fn` with the broker's answer each time it refuses `client`'s login (its other errors left). */
export function onRefusals(client: Pick<MqttClient, "on">, fn: (why: string) => void): void {
  client.on("error", (err) => {
    const why = refusalText(err);
    if (why !== undefined) fn(why);
  });
}

/**
 * The pause after `refusals` refusals in a row: the reconnect period `periodMs` after none, else
 * doubled from `refusedBaseMs` (the period unless given).
 */
export function refusedPause(periodMs: number, refusals: number, refusedBaseMs = periodMs): number {
  return refusals === 0 ? periodMs : Math.min(REFUSED_RETRY_MAX_MS, refusedBaseMs * 2 ** refusals);
}

/**
 * Sets `client`'s pause before each attempt: doubled from `refusedBaseMs` at each refusal in a row,
 * the period otherwise. Called before any other error listener is added, so that they read the pause
 * already set; MQTT.js reads it when it sets up the next attempt, after the error.
 */
export function backOffRefusals(client: MqttClient, periodMs: number, refusedBaseMs = periodMs): void {
  let refusals = 0;
  client.on("error", (err) => {
    refusals = isRefusal(err) ? refusals + 1 : 0;
    client.options.reconnectPeriod = refusedPause(periodMs, refusals, refusedBaseMs);
  });
  client.on("connect", () => {
    refusals = 0;
    client.options.reconnectPeriod = periodMs;
  });
}
