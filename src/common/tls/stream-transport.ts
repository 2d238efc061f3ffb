// The central server's framed TCP protocol over TLS 1.3 (or plaintext when the
// process runs --insecure on loopback): a listening server that hands out
// authenticated streams, and a connect that resolves once the peer's
// certificate has been verified. The framing on top does not change.
// A plaintext peer reaching a TLS server is told so in its own protocol
// (`plaintextRefusal`) instead of seeing garbage; a failed handshake names the
// peer and the reason. Never reads application data itself.
import { Duplex } from "node:stream";
import { createServer, connect as connectTcp, isIP, type Server, type Socket } from "node:net";
import * as tls from "node:tls";
import { AlbumError, ErrorCode } from "../album-error.ts";
import { formatHostPort, type HostPort } from "../host-port.ts";
import { describeTlsFailure } from "./tls-failure.ts";
import { transportSecurity, type TransportSecurity } from "./transport-security.ts";

/** First byte of every TLS handshake record. */
const TLS_HANDSHAKE = 0x16;
/** How long an accepted connection may take to start and finish its handshake. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface StreamServerOptions {
  onConnection(socket: Socket): void;
  /** Bytes to send (in the plain protocol) to a peer that did not start a TLS handshake. */
  plaintextRefusal?: (firstChunk: Buffer) => Buffer | undefined;
  /** A connection refused before it was handed out (bad handshake, plaintext peer). */
  onRefused?: (remote: string, reason: string) => void;
}

/**
 * A byte stream over a socket whose first chunk was already read (to tell
 * TLS from plaintext): node:tls wraps any Duplex, and this one replays that
 * chunk first. Backpressure passes through both ways.
 */
class ReplayedSocket extends Duplex {
  readonly #raw: Socket;

  constructor(raw: Socket, first: Buffer) {
    super({ allowHalfOpen: false });
    this.#raw = raw;
    this.push(first);
    raw.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on("end", () => this.push(null));
    raw.on("close", () => this.destroy());
    raw.on("error", (error) => this.destroy(error));
  }

  override _read(): void {
    this.#raw.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#raw.write(chunk, callback);
  }

  override _final(callback: (error?: Error) => void): void {
    this.#raw.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#raw.destroy();
    callback(error);
  }
}

function remoteOf(socket: Socket): string {
  return socket.remoteAddress !== undefined
    ? formatHostPort({ host: socket.remoteAddress, port: socket.remotePort ?? 0 })
    : "unknown peer";
}

/** A net.Server whose connections are TLS 1.3 when the process uses TLS. */
export function createStreamServer(
  options: StreamServerOptions,
  security: TransportSecurity = transportSecurity(),
): Server {
  if (security.kind === "plaintext") return createServer(options.onConnection);
  if (!security.identity) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      "a TLS server needs --tls-cert and --tls-key",
    );
  }
  const secureContext = tls.createSecureContext({
    cert: security.identity.cert,
    key: security.identity.key,
    ca: security.ca,
    minVersion: "TLSv1.3",
  });
  const refuse = (raw: Socket, remote: string, reason: string): void => {
    options.onRefused?.(remote, reason);
    raw.destroy();
  };
  return createServer((raw) => {
    const remote = remoteOf(raw);
    const timer = setTimeout(
      () => refuse(raw, remote, "no TLS handshake within 10 s"),
      HANDSHAKE_TIMEOUT_MS,
    );
    raw.once("close", () => clearTimeout(timer));
    raw.on("error", () => {
      // 'close' follows; nothing was handed out yet.
    });
    raw.once("data", (first: Buffer) => {
      raw.pause();
      if (first[0] !== TLS_HANDSHAKE) {
        clearTimeout(timer);
        options.onRefused?.(
          remote,
          "it did not start a TLS handshake (a client without --tls-ca?)",
        );
        const refusal = options.plaintextRefusal?.(first);
        if (refusal) raw.end(refusal);
        else raw.destroy();
        return;
      }
      raw.setNoDelay(true);
      const secure = new tls.TLSSocket(new ReplayedSocket(raw, first), {
        isServer: true,
        secureContext,
      });
      // The handed-out socket reports the real peer, as a plain one would.
      Object.defineProperty(secure, "remoteAddress", { value: raw.remoteAddress });
      Object.defineProperty(secure, "remotePort", { value: raw.remotePort });
      let handedOut = false;
      secure.once("secure", () => {
        clearTimeout(timer);
        handedOut = true;
        options.onConnection(secure);
      });
      secure.on("error", (error) => {
        // After the hand-out the connection's owner sees errors through 'close'.
        if (handedOut) return;
        clearTimeout(timer);
        refuse(raw, remote, `TLS handshake failed: ${describeTlsFailure(error)}`);
      });
    });
  });
}

/**
 * Connects to `target`; resolves once the connection is usable (for TLS:
 * after the server's certificate was verified against --tls-ca, for the name
 * dialled). Rejects with Unavailable naming `peer`, the address and why.
 */
export function connectStream(
  target: HostPort,
  peer: string,
  timeoutMs: number,
  security: TransportSecurity = transportSecurity(),
): Promise<Socket> {
  const address = formatHostPort(target);
  const socket =
    security.kind === "tls"
      ? tls.connect({
          host: target.host,
          port: target.port,
          ca: security.ca,
          ...(security.identity
            ? { cert: security.identity.cert, key: security.identity.key }
            : {}),
          minVersion: "TLSv1.3",
          // SNI only carries names; an IP address is checked against the IP SANs.
          ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
        })
      : connectTcp({ host: target.host, port: target.port });
  const ready = security.kind === "tls" ? "secureConnect" : "connect";
  return new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AlbumError(ErrorCode.Unavailable, `the ${peer} at ${address} did not answer`));
    }, timeoutMs);
    let reached = false;
    socket.once("connect", () => (reached = true));
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      reject(
        new AlbumError(
          ErrorCode.Unavailable,
          security.kind === "tls" && reached
            ? `TLS handshake with the ${peer} at ${address} failed: ${describeTlsFailure(error)}`
            : `cannot reach the ${peer} at ${address} (${code ?? error.message})`,
          { cause: error },
        ),
      );
    };
    socket.once("error", onError);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
  });
}
