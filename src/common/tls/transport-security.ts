// How this process protects the links it opens and accepts: TLS with a
// trusted CA (and, for a server, its own certificate and key), or plaintext,
// which is only ever allowed on loopback and only when asked for
// (--insecure). Set once at start-up by the executable; every place that
// listens or dials (the central server and its cluster port, the data
// servers, the client's links) reads it here. One setting per process on
// purpose: a process has one identity and one trust store, and threading it
// through every layer that dials would put TLS into code that should not know
// about it. The library default is plaintext so in-process tests (loopback
// only) need nothing; the executable never leaves it at that silently.
// Never logs or returns key material.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import tls from "node:tls";
import { AlbumError, ErrorCode, invalidArgument } from "../album-error.ts";

export type TransportSecurity =
  | { kind: "plaintext" }
  | {
      kind: "tls";
      /** PEM of the CA(s) every peer's certificate must chain to. */
      ca: Buffer;
      /** This process's certificate and key (servers; also presented by clients that have one). */
      identity?: { cert: Buffer; key: Buffer };
    };

let current: TransportSecurity = { kind: "plaintext" };

export function transportSecurity(): TransportSecurity {
  return current;
}

/** Sets the process's transport security; with TLS, 1.3 is the only version offered or accepted. */
export function useTransportSecurity(security: TransportSecurity): void {
  current = security;
  if (security.kind === "tls") {
    // Covers the gRPC links too (grpc-js builds its contexts from node:tls defaults).
    // A documented, writable setting that the type declarations mark read-only.
    Object.assign(tls, { DEFAULT_MIN_VERSION: "TLSv1.3" });
    hideIpServerNameWarning();
  }
}

let warningFilterInstalled = false;

/**
 * grpc-js always sends the dialled host as the TLS server name, also when it
 * is an IP address (advertised data servers usually are), and node warns
 * about that once per process (DEP0123) on the user's terminal. The
 * certificate is still checked against the address, so the warning says
 * nothing actionable; every other warning is still printed.
 */
function hideIpServerNameWarning(): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    if (warning.code === "DEP0123") return;
    for (const print of printers) print(warning);
  });
}

/** The command-line options, as the executable parsed them. */
export interface TlsOptionValues {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  insecure?: boolean;
}

function readPem(file: string, option: string, marker: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw invalidArgument(
      `${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  if (!content.toString("latin1").includes(`-----BEGIN ${marker}`)) {
    throw invalidArgument(`${option} ${file}: not a PEM file with a ${marker.toLowerCase()}`);
  }
  return content;
}

/**
 * Reads the files the options name. TLS when --tls-ca is given (a server
 * also needs --tls-cert and --tls-key); plaintext only with --insecure. The
 * hosts are checked afterwards by requireProtectedHosts.
 */
export function loadTransportSecurity(
  values: TlsOptionValues,
  role: "server" | "client",
): TransportSecurity {
  const files = [values.tlsCert, values.tlsKey, values.tlsCa].filter((f) => f !== undefined);
  if (files.length === 0) {
    if (values.insecure) return { kind: "plaintext" };
    throw invalidArgument(
      role === "server"
        ? "no TLS configured: give --tls-cert, --tls-key and --tls-ca (albumshare up makes them), or --insecure for plaintext on a loopback address"
        : "no TLS configured: give --tls-ca with the system's CA certificate (albumshare up prints the command), or --insecure for a plaintext server on this machine",
    );
  }
  if (values.tlsCa === undefined) {
    throw invalidArgument("--tls-ca is missing: every peer's certificate is checked against it");
  }
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    throw invalidArgument("--tls-cert and --tls-key go together");
  }
  if (role === "server" && values.tlsCert === undefined) {
    throw invalidArgument("a server needs --tls-cert and --tls-key (its certificate and key)");
  }
  const ca = readPem(values.tlsCa, "--tls-ca", "CERTIFICATE");
  if (values.tlsCert === undefined || values.tlsKey === undefined) return { kind: "tls", ca };
  const cert = readPem(values.tlsCert, "--tls-cert", "CERTIFICATE");
  const key = readPem(values.tlsKey, "--tls-key", "");
  try {
    tls.createSecureContext({ cert, key, ca });
  } catch (error) {
    throw invalidArgument(
      `--tls-cert ${values.tlsCert} and --tls-key ${values.tlsKey} do not make a usable pair (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return { kind: "tls", ca, identity: { cert, key } };
}

/** "localhost", 127.0.0.0/8 and ::1 (a wildcard address is not loopback: it reaches every interface). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (bare.startsWith("::ffff:")) return bare.slice(7).startsWith("127.");
  return false;
}

/**
 * Refuses plaintext on a link that could leave the host: `listen` are the
 * addresses this process binds, `dial` those it connects to.
 */
export function requireProtectedHosts(
  security: TransportSecurity,
  hosts: { listen?: readonly string[]; dial?: readonly string[] },
): void {
  if (security.kind === "tls") return;
  for (const host of hosts.listen ?? []) {
    if (!isLoopbackHost(host)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `refusing to listen on ${host} without TLS: give --tls-cert, --tls-key and --tls-ca, or listen on 127.0.0.1 with --insecure`,
      );
    }
  }
  for (const host of hosts.dial ?? []) {
    if (!isLoopbackHost(host)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `refusing to connect to ${host} without TLS: give --tls-ca (plaintext with --insecure is for this machine only)`,
      );
    }
  }
}
