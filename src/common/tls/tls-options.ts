// The TLS options every `albumshare` process takes (--tls-cert, --tls-key,
// --tls-ca, --insecure), and applying them at start-up: load the files,
// refuse plaintext on anything but loopback, set the process's transport
// security. The executable calls this before it listens or dials anything.
import { Option, type Command } from "commander";
import {
  loadTransportSecurity,
  requireProtectedHosts,
  useTransportSecurity,
  type TlsOptionValues,
} from "./transport-security.ts";

export type { TlsOptionValues } from "./transport-security.ts";

export function addTlsOptions(command: Command, role: "server" | "client"): Command {
  if (role === "server") {
    command
      .addOption(
        new Option("--tls-cert <file>", "this server's certificate (PEM)").env(
          "ALBUMSHARE_TLS_CERT",
        ),
      )
      .addOption(
        new Option("--tls-key <file>", "this server's private key (PEM)").env("ALBUMSHARE_TLS_KEY"),
      );
  }
  return command
    .addOption(
      new Option(
        "--tls-ca <file>",
        "CA certificate (PEM) every peer's certificate must chain to",
      ).env("ALBUMSHARE_TLS_CA"),
    )
    .addOption(
      new Option(
        "--insecure",
        "plaintext without TLS; only on loopback addresses, for development",
      ).env("ALBUMSHARE_INSECURE"),
    );
}

/** Loads and checks the options; throws one clear AlbumError instead of starting unprotected. */
export function applyTlsOptions(
  values: TlsOptionValues,
  role: "server" | "client",
  hosts: { listen?: readonly string[]; dial?: readonly string[] },
): void {
  const security = loadTransportSecurity(values, role);
  requireProtectedHosts(security, hosts);
  useTransportSecurity(security);
}
