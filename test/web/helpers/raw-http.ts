// A misbehaving HTTP client on a raw socket: it writes the request head and
// then whatever body bytes (and pauses) a test wants, and collects what the
// server answers until the server closes the connection. For tests of the
// web server's limits; loopback only.
import { connect, type Socket } from "node:net";

export interface RawExchange {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly closed: Promise<string>;
  /** The first whole reply (head and a Content-Length body), while the connection may stay open. */
  readonly reply: Promise<string>;
  /** Bytes received so far. */
  received(): number;
}

/** Opens a connection to 127.0.0.1:port and writes `head` (request line and headers, no blank line). */
export function rawRequest(
  port: number,
  head: string,
  options: { paused?: boolean } = {},
): RawExchange {
  const socket = connect({ host: "127.0.0.1", port });
  const chunks: Buffer[] = [];
  let bytes = 0;
  let replied: (text: string) => void = () => {};
  const reply = new Promise<string>((resolve) => (replied = resolve));
  socket.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    // A test reading a long stream keeps only its start (the status line and the first messages).
    if (bytes <= 1024 * 1024) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("latin1");
    const headEnd = text.indexOf("\r\n\r\n");
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? Number.NaN);
    if (headEnd >= 0 && text.length >= headEnd + 4 + length) replied(text);
  });
  if (options.paused) socket.pause();
  // Writes to a server that has closed the connection fail: that is what these tests provoke.
  socket.on("error", () => {});
  const closed = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
  socket.write(`${head.trimEnd()}\r\n\r\n`);
  return { socket, closed, reply, received: () => bytes };
}

/** The status code of a raw HTTP reply ("HTTP/1.1 408 ..."), or 0. */
export function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
}

/** Writes `count` single bytes, one every `everyMs`; stops early if the socket closes. */
export async function trickle(socket: Socket, count: number, everyMs: number): Promise<number> {
  let sent = 0;
  while (sent < count && !socket.destroyed) {
    socket.write("x");
    sent++;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return sent;
}
