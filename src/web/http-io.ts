// Small HTTP helpers of the web server: JSON bodies read with a size limit,
// JSON and error replies (an AlbumError code becomes an HTTP status, its
// message one line for the page), and a verified cached content streamed
// whole or as one byte range. Every reply carries the security headers.
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { AlbumError, ErrorCode, invalidArgument } from "../common/album-error.ts";
import type { CachedContent } from "./content-cache.ts";
import { parseRange } from "./http-range.ts";
import { HttpRefusal } from "./request-limits.ts";
import { SECURITY_HEADERS } from "./web-security.ts";

/** A year: what "for good" means to HTTP caches (RFC 9111). */
const IMMUTABLE_SECONDS = 365 * 24 * 3600;

/** JSON request bodies are small (names, passwords, chat lines). */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.PermissionDenied]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.AlreadyExists]: 409,
  [ErrorCode.FailedPrecondition]: 412,
  [ErrorCode.ResourceExhausted]: 413,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

export function writeHead(
  response: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  writeHead(response, status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const failure = AlbumError.from(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const status = failure instanceof HttpRefusal ? failure.status : STATUS[failure.code];
  sendJson(response, status, {
    error: { code: failure.code, message: failure.toLine() },
  });
}

/** Reads a JSON object body of at most MAX_JSON_BODY_BYTES. */
export async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const type = request.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) {
    throw invalidArgument("the request body must be application/json");
  }
  // Refused at its declared length, before a byte of it is read.
  if (Number(request.headers["content-length"] ?? 0) > MAX_JSON_BODY_BYTES) throw jsonTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY_BYTES) {
      throw jsonTooLarge();
    }
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw invalidArgument("the request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument("the request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function jsonTooLarge(): AlbumError {
  return new AlbumError(
    ErrorCode.ResourceExhausted,
    `the request body is larger than ${MAX_JSON_BODY_BYTES / 1024} KiB`,
  );
}

/** A string field of a JSON body, or an InvalidArgument naming it. */
export function stringField(body: Record<string, unknown>, name: string, maxLength = 4096): string {
  const value = body[name];
  if (typeof value !== "string") throw invalidArgument(`'${name}' must be a string`);
  if (value.length > maxLength) throw invalidArgument(`'${name}' is too long`);
  return value;
}

export interface ContentReply {
  contentType: string;
  /** Content-Disposition, e.g. attachment with the file name. */
  disposition?: string;
  /** Renditions never change under a URL for a session: cache them briefly. */
  cacheSeconds?: number;
  /** The URL names this exact content (a version tag): the browser may keep it for good. */
  immutable?: boolean;
}

/** The headers of every content reply (type, ranges accepted, disposition, caching). */
export function contentHeaders(reply: ContentReply): Record<string, string | number> {
  return {
    "Content-Type": reply.contentType,
    "Accept-Ranges": "bytes",
    ...(reply.disposition ? { "Content-Disposition": reply.disposition } : {}),
    ...(reply.immutable
      ? { "Cache-Control": `private, max-age=${IMMUTABLE_SECONDS}, immutable` }
      : reply.cacheSeconds
        ? { "Cache-Control": `private, max-age=${reply.cacheSeconds}` }
        : {}),
  };
}

/** Streams a verified cached content, honouring one Range; releases the content when done. */
export async function sendContent(
  request: IncomingMessage,
  response: ServerResponse,
  content: CachedContent,
  reply: ContentReply,
): Promise<void> {
  try {
    const headers = contentHeaders(reply);
    const range = parseRange(request.headers.range, content.size);
    if (range.kind === "unsatisfiable") {
      writeHead(response, 416, { ...headers, "Content-Range": `bytes */${content.size}` });
      response.end();
      return;
    }
    const start = range.kind === "partial" ? range.start : 0;
    const end = range.kind === "partial" ? range.end : content.size - 1;
    if (range.kind === "partial") {
      headers["Content-Range"] = `bytes ${start}-${end}/${content.size}`;
    }
    writeHead(response, range.kind === "partial" ? 206 : 200, {
      ...headers,
      "Content-Length": Math.max(0, end - start + 1),
    });
    if (request.method === "HEAD" || content.size === 0) {
      response.end();
      return;
    }
    await pipeline(createReadStream(content.path, { start, end }), response).catch(() => {
      // The page went away (a seek aborts the previous range): nothing to report.
    });
  } finally {
    content.release();
  }
}

/** attachment; filename=... with the name safely quoted (RFC 6266 + RFC 5987). */
export function attachmentDisposition(name: string, kind: "attachment" | "inline"): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
