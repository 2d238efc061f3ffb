// The rules a ring's parts must follow: what a server id, an advertised address
// and a list of tokens may look like, and how many tokens a ring may hold. Used
// by Ring.fromProto on every ring that arrives from the wire, and by the ring's
// builders, so a malformed ring is refused before anyone routes a key with it.
// Pure checks only: never resolves a host name or opens a socket.

import { invalidArgument } from "../common/album-error.ts";

/** Exclusive upper bound of a ring position: positions are unsigned 64-bit integers. */
export const RING_SIZE = 1n << 64n;

/** Most tokens one server may hold (bounds the size of a ring received from the wire). */
export const MAX_TOKENS_PER_SERVER = 4096;

/** Most servers a ring may hold. */
export const MAX_SERVERS = 10_000;

/** Most tokens a whole ring may hold. */
export const MAX_RING_TOKENS = 1 << 21;

const MAX_SERVER_ID_LENGTH = 128;
const SERVER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

// host:port where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
const ADDRESS_PATTERN =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([1-9][0-9]{0,4})$/;
const MAX_ADDRESS_LENGTH = 261; // 253 for a DNS name, ":" and 5 digits, brackets

/**
 * A server id is 1 to 128 characters: letters, digits and `._:-`, starting with
 * a letter or digit (so it is safe in file names, logs and command lines).
 */
export function isValidServerId(serverId: string): boolean {
  return (
    typeof serverId === "string" &&
    serverId.length > 0 &&
    serverId.length <= MAX_SERVER_ID_LENGTH &&
    SERVER_ID_PATTERN.test(serverId)
  );
}

/** An address is `host:port` with a port from 1 to 65535; IPv6 hosts in brackets. */
export function isValidAddress(address: string): boolean {
  if (typeof address !== "string" || address.length > MAX_ADDRESS_LENGTH) return false;
  const match = ADDRESS_PATTERN.exec(address);
  if (!match) return false;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535;
}

export function validateServerId(serverId: string): void {
  if (!isValidServerId(serverId)) {
    throw invalidArgument(
      `bad server id ${quote(serverId)}: expected 1 to ${MAX_SERVER_ID_LENGTH} letters, digits or "._:-", starting with a letter or digit`,
    );
  }
}

export function validateAddress(serverId: string, address: string): void {
  if (!isValidAddress(address)) {
    throw invalidArgument(
      `bad address ${quote(address)} for server ${quote(serverId)}: expected host:port with a port from 1 to 65535 (IPv6 as [addr]:port)`,
    );
  }
}

export function validateTokenCount(tokenCount: number): void {
  if (!Number.isInteger(tokenCount) || tokenCount < 1 || tokenCount > MAX_TOKENS_PER_SERVER) {
    throw invalidArgument(
      `bad token count ${String(tokenCount)}: expected an integer from 1 to ${MAX_TOKENS_PER_SERVER}`,
    );
  }
}

/** Checks one server's tokens: 1 to MAX_TOKENS_PER_SERVER positions, each in range, strictly ascending. */
export function validateServerTokens(serverId: string, tokens: readonly bigint[]): void {
  if (tokens.length === 0) {
    throw invalidArgument(`server ${quote(serverId)} has no tokens`);
  }
  if (tokens.length > MAX_TOKENS_PER_SERVER) {
    throw invalidArgument(
      `server ${quote(serverId)} has ${tokens.length} tokens; at most ${MAX_TOKENS_PER_SERVER} are allowed`,
    );
  }
  let previous = -1n;
  for (const token of tokens) {
    if (typeof token !== "bigint" || token < 0n || token >= RING_SIZE) {
      throw invalidArgument(
        `server ${quote(serverId)} has token ${String(token)} outside the 64-bit circle`,
      );
    }
    if (token <= previous) {
      throw invalidArgument(
        token === previous
          ? `server ${quote(serverId)} lists token ${token} twice`
          : `server ${quote(serverId)} has tokens out of order (${token} after ${previous}); they must be ascending`,
      );
    }
    previous = token;
  }
}

export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return JSON.stringify(shown);
}
