// Parsing of "host:port" addresses given on the command line or advertised by
// a process. IPv6 literals are written in brackets: "[::1]:7400".
import { invalidArgument } from "./album-error.ts";

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string, defaultPort?: number): HostPort {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(trimmed);
  const match = bracketed ?? plain;
  if (!match) throw invalidArgument(`'${text}' is not an address of the form host:port`);
  const host = match[1]!;
  const portText = match[2];
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port === undefined) throw invalidArgument(`'${text}' lacks a port (host:port)`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument(`port in '${text}' must be between 0 and 65535`);
  }
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
