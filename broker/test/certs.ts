/**
 * Test certificates made with openssl: a CA of the test's own, and keys with certificates it signs
 * valid between fixed dates (`openssl ca -startdate/-enddate`), so an expired or not yet valid one
 * needs no clock of the machine's; and a self-signed one, where a test needs only some certificate.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  readonly dir: string;
  /** The CA's certificate (PEM file), what a client trusts with --ca. */
  readonly caFile: string;
  /**
   * A key and a certificate signed by this CA for `names` (subjectAltName entries, e.g.
   * `DNS:localhost,IP:127.0.0.1`), valid from `start` to `end` (`YYYYMMDDHHMMSSZ`).
   */
  issue(
    name: string,
    options: { names: string; start: string; end: string },
  ): { keyFile: string; certFile: string };
}

/**
 * P-256 keys, not RSA 2048: making an RSA key searches for primes, 0.2 s of CPU each and seconds of
 * waiting on a busy host (four took 35 s at load average 25, four P-256 keys 2.5 s), and a test
 * makes up to four; the broker serves either kind alike.
 */
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

const openssl = (args: readonly string[]) => execFileSync("openssl", args, { stdio: "ignore" });

/**
 * A P-256 key `<name>-key.pem` and its self-signed certificate `<name>-cert.pem` in `dir`, for
 * `/CN=<cn>` (default `localhost`) and `names` (subjectAltName entries, e.g.
 * `DNS:localhost,IP:127.0.0.1`), valid for two days from now.
 */
export function selfSigned(
  dir: string,
  name: string,
  options: { cn?: string; names?: string } = {},
): { keyFile: string; certFile: string } {
  const keyFile = join(dir, `${name}-key.pem`);
  const certFile = join(dir, `${name}-cert.pem`);
  openssl([
    ...["req", "-x509", ...EC_KEY, "-nodes", "-days", "2"],
    ...["-keyout", keyFile, "-out", certFile, "-subj", `/CN=${options.cn ?? "localhost"}`],
    ...(options.names === undefined ? [] : ["-addext", `subjectAltName=${options.names}`]),
  ]);
  return { keyFile, certFile };
}

export function makeCa(dir: string, cn = "twinfleet test CA"): TestCa {
  const caDir = join(dir, `ca-${cn.replace(/\W/g, "-")}`);
  mkdirSync(join(caDir, "issued"), { recursive: true });
  writeFileSync(join(caDir, "index.txt"), "");
  writeFileSync(join(caDir, "serial"), "1000\n");
  const caKey = join(caDir, "ca-key.pem");
  const caFile = join(caDir, "ca.pem");
  openssl([
    ...["req", "-x509", ...EC_KEY, "-nodes", "-days", "3650"],
    ...["-keyout", caKey, "-out", caFile, "-subj", `/CN=${cn}`],
  ]);
  const config = join(caDir, "ca.cnf");
  writeFileSync(
    config,
    [
      "[ca]",
      "default_ca = d",
      "[d]",
      `database = ${join(caDir, "index.txt")}`,
      `new_certs_dir = ${join(caDir, "issued")}`,
      `serial = ${join(caDir, "serial")}`,
      "default_md = sha256",
      "policy = p",
      "copy_extensions = copy",
      "unique_subject = no",
      "[p]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  return {
    dir: caDir,
    caFile,
    issue(name, { names, start, end }) {
      const keyFile = join(dir, `${name}-key.pem`);
      const certFile = join(dir, `${name}-cert.pem`);
      const csr = join(caDir, `${name}.csr`);
      openssl([
        ...["req", ...EC_KEY, "-nodes", "-keyout", keyFile, "-out", csr],
        ...["-subj", `/CN=${name}`, "-addext", `subjectAltName=${names}`],
      ]);
      openssl([
        ...["ca", "-batch", "-config", config, "-cert", caFile, "-keyfile", caKey, "-notext"],
        ...["-in", csr, "-out", certFile, "-startdate", start, "-enddate", end],
      ]);
      return { keyFile, certFile };
    },
  };
}
