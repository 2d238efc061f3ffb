// The certificate files of a system: a private CA under one folder (made once,
// kept), and certificates it issues for named hosts. `albumshare up` uses it
// on first start; `albumshare certificate` makes them for other hosts. Keys are
// written 0600 and never overwritten; an existing CA is reused so certificates
// issued earlier stay valid.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  createCertificateAuthority,
  issueCertificate,
  type PemPair,
} from "./certificate-authority.ts";

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** The names a certificate for this machine's local system covers. */
export function localHostNames(): string[] {
  return [...new Set(["localhost", "127.0.0.1", "::1", hostname()])];
}

function writeNew(file: string, content: string, mode: number): void {
  // 'wx': never replace a file another run made meanwhile.
  writeFileSync(file, content, { mode, flag: "wx" });
}

/** The CA kept in `dir` (ca.pem, ca-key.pem), made on first use. */
export function ensureCertificateAuthority(dir: string): PemPair {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, "ca.pem");
  const keyFile = join(dir, "ca-key.pem");
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  }
  // A name of its own, so a certificate of another system's CA is told apart by name.
  const ca = createCertificateAuthority(`AlbumSharing CA ${randomBytes(6).toString("hex")}`);
  writeNew(keyFile, ca.key, 0o600);
  writeNew(certFile, ca.cert, 0o644);
  return ca;
}

/**
 * Issues `<name>.pem` and `<name>-key.pem` in `dir` for `hosts`, signed by
 * the CA in `caDir`, unless they exist already. Returns the three paths a
 * process is started with.
 */
export function ensureCertificate(
  caDir: string,
  dir: string,
  name: string,
  hosts: readonly string[],
): TlsFiles {
  const ca = ensureCertificateAuthority(caDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  if (!existsSync(cert) || !existsSync(key)) {
    const issued = issueCertificate(ca, hosts);
    writeNew(key, issued.key, 0o600);
    writeNew(cert, issued.cert, 0o644);
  }
  return { cert, key, ca: join(caDir, "ca.pem") };
}

/** The command-line arguments that hand these files to a process. */
export function tlsArguments(files: TlsFiles): string[] {
  return ["--tls-cert", files.cert, "--tls-key", files.key, "--tls-ca", files.ca];
}
