/**
 * Loads the TLS key and certificate for the MQTT-over-TLS listener, turning every way those files
 * can be wrong into a message that names the file.
 */
import { createSecureContext } from "node:tls";
import { OptionError } from "../protocol/index.js";
import { shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, readUserFile } from "../protocol/user-file.js";

/** A key or certificate file that cannot be used; `file` says which (`pair`: the two do not match). */
export class TlsFileError extends OptionError {
  override readonly name = "TlsFileError";
  constructor(
    readonly file: "key" | "certificate" | "pair",
    message: string,
  ) {
    super(message);
  }
}

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
}

async function readPem(path: string, what: "key" | "certificate", marker: RegExp): Promise<Buffer> {
  const data = readUserFile(path, { maxBytes: FILE_LIMITS.pem, error: (m) => new TlsFileError(what, m) });
  if (!marker.test(data.toString("latin1"))) {
    throw new TlsFileError(
      what,
      `TLS ${what} file ${shownPath(path)} is not PEM (no "-----BEGIN …" block of the right kind)`,
    );
  }
  return data;
}

export async function loadTlsMaterial(keyFile: string, certFile: string): Promise<TlsMaterial> {
  const key = await readPem(keyFile, "key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const cert = await readPem(certFile, "certificate", /-----BEGIN CERTIFICATE-----/);
  try {
    // Fail at start-up, not at the first handshake: bad PEM bodies and a key that does not match
    // the certificate both throw here.
    createSecureContext({ key, cert });
  } catch (err) {
    throw new TlsFileError(
      "pair",
      `TLS key ${keyFile} and certificate ${certFile} cannot be used: ${(err as Error).message}`,
    );
  }
  return { key, cert };
}
