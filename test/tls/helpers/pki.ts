// Certificate files for TLS tests: a system CA with a certificate for the
// loopback names, a second unrelated CA (the "wrong CA"), and an expired
// certificate from the system CA. Made with the product's own CA code.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { issueCertificate } from "../../../src/common/tls/certificate-authority.ts";
import {
  ensureCertificate,
  ensureCertificateAuthority,
  tlsArguments,
  type TlsFiles,
} from "../../../src/common/tls/local-certificates.ts";

export interface TestPki {
  server: TlsFiles;
  /** Signed by the system CA, valid yesterday only. */
  expired: TlsFiles;
  /** ca.pem of a CA that signed nothing of this system. */
  otherCa: string;
  serverArgs: string[];
  clientArgs: string[];
}

export function makeTestPki(dir: string): TestPki {
  const caDir = join(dir, "ca");
  const server = ensureCertificate(caDir, join(dir, "server"), "server", [
    "localhost",
    "127.0.0.1",
  ]);
  const day = 24 * 60 * 60 * 1000;
  const issued = issueCertificate(ensureCertificateAuthority(caDir), ["localhost", "127.0.0.1"], {
    notBefore: new Date(Date.now() - 2 * day),
    notAfter: new Date(Date.now() - day),
  });
  const expired = {
    cert: join(dir, "expired.pem"),
    key: join(dir, "expired-key.pem"),
    ca: server.ca,
  };
  writeFileSync(expired.cert, issued.cert);
  writeFileSync(expired.key, issued.key, { mode: 0o600 });
  ensureCertificateAuthority(join(dir, "other"));
  return {
    server,
    expired,
    otherCa: join(dir, "other", "ca.pem"),
    serverArgs: tlsArguments(server),
    clientArgs: ["--tls-ca", server.ca],
  };
}
