// `albumshare certificate`: makes a certificate for a host of a multi-host
// system, signed by the system's CA (made in the CA folder on first use, as
// `albumshare up` does). Prints the three paths to start the process with.
import { ensureCertificate } from "./local-certificates.ts";
import { invalidArgument } from "../album-error.ts";

export interface CertificateCommandOptions {
  caDir: string;
  out: string;
  name: string;
  hosts: readonly string[];
}

export function runCertificateCommand(
  options: CertificateCommandOptions,
  output: NodeJS.WritableStream,
): void {
  if (options.hosts.length === 0) {
    throw invalidArgument("give at least one --host: the names and addresses others dial");
  }
  const files = ensureCertificate(options.caDir, options.out, options.name, options.hosts);
  output.write(`--tls-cert ${files.cert} --tls-key ${files.key} --tls-ca ${files.ca}\n`);
}
