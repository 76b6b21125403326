// The login as MQTT.js options, the URL without credentials, and a failed connection in one line
// naming the broker and the cause, never the password.
import { lookup } from "node:dns/promises";
import { connect, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { connectError, displayUrl, loginOptions, splitBrokerUrl } from "../connection.js";

const codeErr = (code: string | number, message = "x") => Object.assign(new Error(message), { code });

describe("broker URLs", () => {
  it("takes credentials out of the URL, decoded", () => {
    expect(splitBrokerUrl("mqtt://twins:p%40ss@lab:1883")).toEqual({
      url: "mqtt://lab:1883",
      username: "twins",
      password: "p@ss",
    });
    expect(splitBrokerUrl("mqtts://lab:8883")).toEqual({ url: "mqtts://lab:8883" });
    expect(displayUrl("ws://u:secret@lab:8080/mqtt")).toBe("ws://lab:8080/mqtt");
  });

  it("builds TLS options only from what was given", () => {
    expect(loginOptions(undefined)).toEqual({});
    expect(loginOptions({ username: "u", tls: { ca: "CA", insecure: true } })).toEqual({
      username: "u",
      ca: "CA",
      rejectUnauthorized: false,
    });
  });
});

describe("connection errors", () => {
  const url = "mqtt://twins:hunter2@lab:1883";
  it("says the broker could not be reached, and why", () => {
    expect(connectError(codeErr("ECONNREFUSED", "connect ECONNREFUSED"), url).message).toBe(
      "cannot reach the broker at mqtt://lab:1883: connection refused",
    );
    expect(connectError(codeErr("ENOTFOUND"), url).message).toContain("host not found");
    expect(connectError(codeErr("ETIMEDOUT"), url).reason).toBe("timeout");
  });

  it("names the addresses a host name was refused at, sorted; not for an IP literal", () => {
    const at = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:1883`), { code: "ECONNREFUSED", address });
    expect(connectError(at("127.0.0.1"), "mqtt://localhost:1883").message).toBe(
      "cannot reach the broker at mqtt://localhost:1883: connection refused (localhost is 127.0.0.1)",
    );
    // Node's AggregateError: one error per address tried (net autoSelectFamily), in either order.
    const both = (first: string, second: string) =>
      Object.assign(new AggregateError([at(first), at(second)], ""), { code: "ECONNREFUSED" });
    const text =
      "cannot reach the broker at mqtt://lab:1883: connection refused (lab is 10.0.0.5 and fd00::5)";
    expect(connectError(both("fd00::5", "10.0.0.5"), url).message).toBe(text);
    expect(connectError(both("10.0.0.5", "fd00::5"), url).message).toBe(text);
    expect(connectError(at("::1"), "mqtt://[::1]:1883").message).toBe(
      "cannot reach the broker at mqtt://[::1]:1883: connection refused",
    );
    expect(connectError(at("127.0.0.1"), "mqtt://127.0.0.1:1883").message).toBe(
      "cannot reach the broker at mqtt://127.0.0.1:1883: connection refused",
    );
  });

  it("says what localhost resolved to when a real connection to it is refused", async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
    );
    await new Promise((resolve) => server.close(resolve));
    const err = await new Promise<Error>((resolve) =>
      connect({ host: "localhost", port }).once("error", resolve),
    );
    const addresses = [...new Set((await lookup("localhost", { all: true })).map((a) => a.address))].sort();
    expect(connectError(err, `mqtt://localhost:${port}`).message).toBe(
      `cannot reach the broker at mqtt://localhost:${port}: connection refused (localhost is ${addresses.join(" and ")})`,
    );
  });

  it("names the CONNACK refusals", () => {
    const bad = connectError(codeErr(4, "Connection refused: Bad username or password"), url);
    expect(bad).toMatchObject({ reason: "refused-login" });
    expect(bad.message).toBe(
      "the broker at mqtt://lab:1883 refused the connection: bad user name or password (check --username and --password)",
    );
    // Mosquitto 2.0.11 answers a wrong password, and none with allow_anonymous false, with 5.
    expect(connectError(codeErr(5), url).message).toBe(
      "the broker at mqtt://lab:1883 refused the connection: not authorized (a wrong or missing user name or password, as Mosquitto 2 answers those, or a login its rules refuse: check --username and --password)",
    );
  });

  it("points at --ca and --insecure for an untrusted certificate", () => {
    const e = connectError(
      codeErr("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
      "mqtts://lab:8883",
    );
    expect(e.reason).toBe("tls");
    expect(e.message).toBe(
      "cannot trust the broker at mqtts://lab:8883: self-signed certificate; give its CA with --ca <file>, or skip the check with --insecure",
    );
  });

  it.each([
    [
      "CERT_HAS_EXPIRED",
      "certificate has expired",
      "certificate has expired; the broker must be given a renewed certificate (and reload it: kill -HUP, docs/broker.md), or this machine's clock is ahead",
    ],
    [
      "CERT_NOT_YET_VALID",
      "certificate is not yet valid",
      "certificate is not yet valid; this machine's clock is behind, or the broker was given a certificate dated ahead (check both dates: openssl x509 -noout -dates)",
    ],
    [
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "Hostname/IP does not match certificate's altnames: Host: lab. is not in the cert's altnames: DNS:other",
      "Hostname/IP does not match certificate's altnames: Host: lab. is not in the cert's altnames: DNS:other; connect by a name or address the certificate holds, or have it reissued with this one in its subjectAltName",
    ],
    [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "unable to verify the first certificate",
      "unable to verify the first certificate; give its CA with --ca <file>, or skip the check with --insecure",
    ],
  ])("says what to do about a certificate refused for %s, not always --ca", (code, text, said) => {
    const e = connectError(codeErr(code, text), "mqtts://lab:8883");
    expect(e).toMatchObject({ reason: "tls", transient: false });
    expect(e.message).toBe(`cannot trust the broker at mqtts://lab:8883: ${said}`);
  });

  it("says a server that answers with bytes that are not MQTT is not a broker", () => {
    const e = connectError(new Error("Invalid header flag bits, must be 0x0 for puback packet"), url);
    expect(e.reason).toBe("refused");
    expect(e.message).toBe(
      "cannot connect to the broker at mqtt://lab:1883: what answered there does not speak MQTT (Invalid header flag bits, must be 0x0 for puback packet); is it the broker's MQTT port? An HTTP server answers this way; MQTT over WebSocket needs ws:// or wss://, a TLS port mqtts://",
    );
    expect(connectError(new Error("Packet too short"), url).message).toContain("does not speak MQTT");
  });

  it("masks the password in an unknown error's text", () => {
    expect(connectError(new Error("weird hunter2 thing"), url, "hunter2").message).toBe(
      "cannot connect to the broker at mqtt://lab:1883: weird *** thing",
    );
  });
});
