// `albumshare web`: a local web server that hosts one client core per
// logged-in browser session (see browser-session.ts) and serves the page,
// its JSON API, content from verified cache, and the live channel (a
// WebSocket per page). Security of a local server: only its own Host names
// are answered (no DNS rebinding), a state-changing request or a live channel
// must come from its own Origin (no cross-site requests), the session cookie
// is HttpOnly and SameSite=Strict, every reply carries a strict CSP, and no
// reply ever carries a content key. It never crashes on input: every failure
// becomes one JSON error line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import type { Logger } from "../common/logger.ts";
import type { PeerEndpointOptions } from "../client/session/album-session.ts";
import { BrowserSessions } from "./browser-sessions.ts";
import type { LiveMessage } from "./browser-session.ts";
import { ContentCache } from "./content-cache.ts";
import { Prefetcher } from "./prefetcher.ts";
import { RenditionTags } from "./rendition-tag.ts";
import { loadFrontEnd, type FrontEndAssets } from "./front-end-assets.ts";
import { sendError, sendJson, writeHead } from "./http-io.ts";
import { UploadStaging } from "./upload-staging.ts";
import {
  DEFAULT_LIVE_CHANNEL_LIMITS,
  LiveChannels,
  type LiveChannel,
  type LiveChannelLimits,
} from "./live-channels.ts";
import {
  closeUnreadBodyAfterReply,
  DEFAULT_REQUEST_LIMITS,
  watchBody,
  type RequestLimits,
} from "./request-limits.ts";
import { RangeSlots } from "./verified-range.ts";
import { routes, type WebDependencies } from "./web-routes.ts";
import {
  allowedHosts,
  cookieValue,
  hostAllowed,
  originAllowed,
  SESSION_COOKIE,
} from "./web-security.ts";

export interface WebServerOptions {
  /** host:port of the central server. */
  central: string;
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
  /** Cache and staged uploads live here. */
  dir: string;
  cacheBytes: number;
  maxUploadBytes: number;
  /** Extra "host:port" names the server answers to (e.g. behind a reverse proxy). */
  allowedHosts?: readonly string[];
  peer: PeerEndpointOptions;
  logger: Logger;
  maxSessions?: number;
  /** Request body time limits and connection bounds (request-limits.ts). */
  requestLimits?: Partial<RequestLimits>;
  /** Live channel bounds and the slow-consumer rule (live-channels.ts). */
  liveLimits?: Partial<LiveChannelLimits>;
}

const LIVE_PING_MS = 20_000;
/** Ranges of videos streamed from verified blocks at once (one 1 MiB block each). */
const MAX_VERIFIED_RANGES = 32;

export class WebServer {
  readonly #options: WebServerOptions;
  readonly #server: Server;
  readonly #live: WebSocketServer;
  readonly #deps: WebDependencies;
  readonly #limits: RequestLimits;
  readonly #channels: LiveChannels;
  #assets: FrontEndAssets | undefined;
  #hosts = new Set<string>();
  #port = 0;

  constructor(options: WebServerOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits };
    this.#channels = new LiveChannels({ ...DEFAULT_LIVE_CHANNEL_LIMITS, ...options.liveLimits });
    const cache = new ContentCache({
      dir: join(options.dir, "cache"),
      maxBytes: options.cacheBytes,
    });
    const prefetcher = new Prefetcher(cache);
    const tags = new RenditionTags();
    this.#deps = {
      sessions: new BrowserSessions({
        central: options.central,
        peer: options.peer,
        logger: options.logger,
        maxSessions: options.maxSessions ?? 64,
        idleTimeoutMs: 12 * 3600_000,
        albumIdleCloseMs: 5000,
        prefetch: (session, key) => prefetcher.add(session, key),
        tags,
      }),
      cache,
      tags,
      uploads: new UploadStaging({
        dir: join(options.dir, "uploads"),
        maxUploadBytes: options.maxUploadBytes,
        unclaimedMs: 10 * 60_000,
        maxPerOwner: 16,
        maxReceiving: this.#limits.maxReceivingUploads,
      }),
      rangeSlots: new RangeSlots(MAX_VERIFIED_RANGES),
    };
    this.#server = createServer(
      { requestTimeout: 0, headersTimeout: 30_000 },
      (request, response) => void this.#onRequest(request, response),
    );
    this.#live = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    this.#server.on(
      "upgrade",
      (request, socket, head) => void this.#onUpgrade(request, socket, head),
    );
    this.#server.maxConnections = this.#limits.maxConnections;
    this.#server.on("clientError", (_error, socket) => socket.destroy());
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.#options.host.includes(":") ? `[${this.#options.host}]` : this.#options.host;
    return `http://${host}:${this.#port}/`;
  }

  async start(): Promise<void> {
    this.#assets = await loadFrontEnd();
    await this.#deps.cache.start();
    await this.#deps.uploads.start();
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#hosts = allowedHosts(this.#options.host, this.#port, this.#options.allowedHosts);
  }

  async stop(): Promise<void> {
    for (const client of this.#live.clients) client.terminate();
    this.#live.close();
    await this.#deps.sessions.stop();
    await this.#deps.uploads.stop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    closeUnreadBodyAfterReply(request, response);
    try {
      if (!hostAllowed(request.headers.host, this.#hosts)) {
        throw new AlbumError(
          ErrorCode.PermissionDenied,
          "this server does not answer to that Host",
        );
      }
      const method = request.method ?? "GET";
      const changesState = method !== "GET" && method !== "HEAD";
      if (changesState && !originAllowed(request.headers.origin, this.#hosts)) {
        throw new AlbumError(ErrorCode.PermissionDenied, "cross-origin request refused");
      }
      const url = new URL(request.url ?? "/", "http://localhost");
      if (!url.pathname.startsWith("/api/")) {
        this.#serveStatic(method, url.pathname, response);
        return;
      }
      const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
      const session = this.#deps.sessions.get(token);
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (!match || (route.method !== method && !(method === "HEAD" && route.method === "GET")))
          continue;
        if (!route.public && !session) {
          throw new AlbumError(ErrorCode.Unauthenticated, "log in first");
        }
        const params = match.slice(1).map(decodePathPart);
        const body = route.body ?? (route.method === "POST" ? "json" : "none");
        const done = watchBody(request, response, body, this.#limits, (reason) =>
          sendError(response, reason),
        );
        try {
          await route.handle({ request, response, params, url, session, token }, this.#deps);
        } finally {
          done();
        }
        return;
      }
      throw new AlbumError(ErrorCode.NotFound, `no such API: ${method} ${url.pathname}`);
    } catch (error) {
      const failure = AlbumError.from(error);
      if (failure.code === ErrorCode.Internal) {
        this.#options.logger.error({ err: error, url: request.url }, "request failed");
      }
      sendError(response, failure);
    }
  }

  #serveStatic(method: string, path: string, response: ServerResponse): void {
    const assets = this.#assets!;
    const files: Record<string, [Buffer, string]> = {
      "/": [assets.html, "text/html; charset=utf-8"],
      "/app.js": [assets.js, "text/javascript; charset=utf-8"],
      "/app.css": [assets.css, "text/css; charset=utf-8"],
      "/favicon.svg": [assets.icon, "image/svg+xml"],
    };
    const file = files[path];
    if (!file || (method !== "GET" && method !== "HEAD")) {
      sendJson(response, 404, { error: { code: "not_found", message: "not found" } });
      return;
    }
    writeHead(response, 200, { "Content-Type": file[1], "Content-Length": file[0].length });
    response.end(method === "HEAD" ? undefined : file[0]);
  }

  async #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== "/api/live") return refuse("404 Not Found");
    if (!hostAllowed(request.headers.host, this.#hosts)) return refuse("403 Forbidden");
    if (!originAllowed(request.headers.origin, this.#hosts)) return refuse("403 Forbidden");
    const session = this.#deps.sessions.get(cookieValue(request.headers.cookie, SESSION_COOKIE));
    if (!session) return refuse("401 Unauthorized");
    const album = url.searchParams.get("album");
    if (!album) return refuse("400 Bad Request");
    this.#live.handleUpgrade(request, socket, head, (ws) => void this.#onLive(ws, session, album));
  }

  async #onLive(
    ws: WebSocket,
    session: NonNullable<ReturnType<BrowserSessions["get"]>>,
    album: string,
  ): Promise<void> {
    let detach: (() => void) | undefined;
    let closed = false;
    const admission = this.#channels.admit(session, ws);
    if (!admission.admitted) {
      // The newest page is refused, with a line it shows; pages already open stay.
      ws.send(JSON.stringify({ type: "error", message: admission.reason } satisfies LiveMessage));
      ws.close(1008, "too many live channels");
      return;
    }
    const channel: LiveChannel = admission.channel;
    const send = (message: LiveMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      channel.send(JSON.stringify(message));
    };
    const ping = setInterval(() => ws.ping(), LIVE_PING_MS);
    ws.on("message", () => ws.close(1008, "the live channel is one-way"));
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      closed = true;
      channel.remove();
      clearInterval(ping);
      detach?.();
    });
    try {
      const attached = await session.attach(album, { send });
      if (closed) attached();
      else detach = attached;
    } catch (error) {
      const failure = AlbumError.from(error);
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: "error", message: failure.toLine() }));
        ws.close(1000, "cannot open the album");
      }
    }
  }
}

function decodePathPart(part: string | undefined): string {
  try {
    return decodeURIComponent(part ?? "");
  } catch {
    throw new AlbumError(ErrorCode.InvalidArgument, "malformed path");
  }
}
