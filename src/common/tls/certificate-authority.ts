// A small private certificate authority: makes a CA certificate and issues
// certificates for named hosts (DNS names and IP addresses as subject
// alternative names), PEM in and out. Keys are RSA 2048 made by node's crypto
// (node-forge signs; it uses node's key generation when available, so no
// pure-JS prime search). It never touches files: callers decide where keys go.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

export interface PemPair {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PKCS#8 PEM. */
  key: string;
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Long enough that a local system never meets an expiry; certificates are cheap to remake. */
const DEFAULT_VALIDITY_DAYS = 3650;

function newKeys(): {
  publicKey: forge.pki.PublicKey;
  privateKey: forge.pki.PrivateKey;
  pem: string;
} {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    pem: privateKey,
  };
}

function serialNumber(): string {
  // Positive (high bit clear), 127 random bits: unique without a counter.
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString("hex");
}

function applyValidity(cert: forge.pki.Certificate, validity: Validity): void {
  // A minute back so a peer whose clock is slightly behind accepts it.
  const notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter =
    validity.notAfter ?? new Date(notBefore.getTime() + DEFAULT_VALIDITY_DAYS * DAY_MS);
}

/** A self-signed CA that may sign server certificates (and nothing deeper). */
export function createCertificateAuthority(commonName: string, validity: Validity = {}): PemPair {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  applyValidity(cert, validity);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

/**
 * A certificate for the given host names and IP addresses (the first is the
 * common name), usable by a server and as a client, signed by `ca`.
 */
export function issueCertificate(
  ca: PemPair,
  names: readonly string[],
  validity: Validity = {},
): PemPair {
  if (names.length === 0) throw new Error("a certificate needs at least one host name or address");
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey;
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  applyValidity(cert, validity);
  cert.setSubject([{ name: "commonName", value: names[0]! }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...new Set(names)].map((name) =>
    isIP(name) !== 0 ? { type: 7, ip: name } : { type: 2, value: name },
  );
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    { name: "subjectAltName", altNames },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}
