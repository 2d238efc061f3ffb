// The web server's JSON API and content routes, one handler per route in a
// table: log in and out, albums, and inside an album its files (renditions
// and originals served from verified cached content, by album and FileId),
// ratings, members, chat and uploads. Every handler but the login ones runs
// for a logged-in browser session only (the server checks that before it
// routes). No response ever carries a content key.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AlbumError, ErrorCode, invalidArgument, notFound } from "../common/album-error.ts";
import type { AlbumFile } from "../crdt/index.ts";
import type { BrowserSession } from "./browser-session.ts";
import type { BrowserSessions } from "./browser-sessions.ts";
import type { ContentCache } from "./content-cache.ts";
import { attachmentDisposition, readJson, sendContent, sendJson, stringField } from "./http-io.ts";
import { contentTypeOf } from "./media-kind.ts";
import type { BodyKind } from "./request-limits.ts";
import type { RenditionTags } from "./rendition-tag.ts";
import type { UploadStaging } from "./upload-staging.ts";
import { sendVerifiedRange, type ChunkedContent, type RangeSlots } from "./verified-range.ts";
import { clearedSessionCookie, sessionCookie } from "./web-security.ts";

export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  /** Decoded path parameters, in pattern order. */
  params: string[];
  url: URL;
  /** The logged-in session (undefined only on the routes that allow it). */
  session: BrowserSession | undefined;
  token: string | undefined;
}

export interface WebDependencies {
  sessions: BrowserSessions;
  cache: ContentCache;
  uploads: UploadStaging;
  rangeSlots: RangeSlots;
  tags: RenditionTags;
}

export interface Route {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  /** True for the few routes that work without a login. */
  public?: boolean;
  /** How the body is read, for its limits (default: "json" for POST, "none" otherwise). */
  body?: BodyKind;
  handle(context: RouteContext, deps: WebDependencies): Promise<void>;
}

const ALBUM = "([^/]+)";
const FILE_ID = "([0-9a-f]{16})";

function loggedIn(context: RouteContext): BrowserSession {
  if (!context.session) throw new AlbumError(ErrorCode.Unauthenticated, "log in first");
  return context.session;
}

export const routes: readonly Route[] = [
  {
    method: "GET",
    pattern: /^\/api\/me$/,
    public: true,
    handle: ({ response, session }) => {
      sendJson(response, 200, { user: session?.user ?? null });
      return Promise.resolve();
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/register$/,
    public: true,
    async handle({ request, response }, { sessions }) {
      const body = await readJson(request);
      await sessions.register(stringField(body, "name", 64), stringField(body, "password", 1024));
      sendJson(response, 200, { registered: true });
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/login$/,
    public: true,
    async handle({ request, response, token }, { sessions }) {
      const body = await readJson(request);
      const login = await sessions.login(
        stringField(body, "name", 64),
        stringField(body, "password", 1024),
      );
      // A login replaces the browser's previous session, if any.
      if (token !== undefined) await sessions.logout(token);
      response.setHeader("Set-Cookie", sessionCookie(login.token));
      sendJson(response, 200, { user: login.user });
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/logout$/,
    public: true,
    async handle({ response, token }, { sessions }) {
      if (token !== undefined) await sessions.logout(token);
      response.setHeader("Set-Cookie", clearedSessionCookie());
      sendJson(response, 200, { loggedOut: true });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/albums$/,
    async handle(context) {
      const albums = await loggedIn(context).central.listAlbums();
      sendJson(context.response, 200, { albums });
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/albums$/,
    async handle(context) {
      const body = await readJson(context.request);
      const name = stringField(body, "name", 256);
      await loggedIn(context).central.createAlbum(name);
      sendJson(context.response, 200, { created: name });
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/api/albums/${ALBUM}/chat$`),
    async handle(context) {
      const body = await readJson(context.request);
      const text = stringField(body, "text", 4000);
      await loggedIn(context).withAlbum(context.params[0]!, (album) => album.chat(text));
      sendJson(context.response, 200, { sent: true });
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/api/albums/${ALBUM}/members$`),
    async handle(context) {
      const body = await readJson(context.request);
      const name = stringField(body, "name", 64);
      const change = await loggedIn(context).withAlbum(context.params[0]!, (album) =>
        album.addUser(name),
      );
      sendJson(context.response, 200, { members: change.members });
    },
  },
  {
    method: "DELETE",
    pattern: new RegExp(`^/api/albums/${ALBUM}/members/([^/]+)$`),
    async handle(context) {
      const change = await loggedIn(context).withAlbum(context.params[0]!, (album) =>
        album.removeUser(context.params[1]!),
      );
      sendJson(context.response, 200, { members: change.members });
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/uploads$/,
    body: "upload",
    async handle(context, { uploads }) {
      const session = loggedIn(context);
      const staged = await uploads.receive(session.user, context.request);
      sendJson(context.response, 200, { upload: staged.id, size: staged.size });
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/api/albums/${ALBUM}/files$`),
    async handle(context, { uploads }) {
      const session = loggedIn(context);
      const body = await readJson(context.request);
      const name = stringField(body, "name", 1024);
      const upload = uploads.claim(session.user, stringField(body, "upload", 64));
      const posterId = body.poster === undefined ? undefined : stringField(body, "poster", 64);
      const poster = posterId === undefined ? undefined : uploads.claim(session.user, posterId);
      try {
        await session.addFile(context.params[0]!, upload.path, name, {
          ...(poster ? { posterPath: poster.path } : {}),
        });
      } finally {
        await uploads.discard(upload.id);
        if (poster) await uploads.discard(poster.id);
      }
      sendJson(context.response, 200, { added: name });
    },
  },
  {
    method: "DELETE",
    pattern: new RegExp(`^/api/albums/${ALBUM}/files/${FILE_ID}$`),
    async handle(context) {
      const removed = await loggedIn(context).withFile(
        context.params[0]!,
        context.params[1]!,
        async (album, file) => (await album.removeFile(file.displayName)).name,
      );
      sendJson(context.response, 200, { removed });
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/api/albums/${ALBUM}/files/${FILE_ID}/rating$`),
    async handle(context) {
      const body = await readJson(context.request);
      const stars = body.stars;
      if (typeof stars !== "number") throw invalidArgument("'stars' must be a number");
      await loggedIn(context).rate(context.params[0]!, context.params[1]!, stars);
      sendJson(context.response, 200, { rated: stars });
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/albums/${ALBUM}/files/${FILE_ID}/(original|preview|thumbnail)$`),
    async handle(context, { cache, rangeSlots, tags }) {
      const session = loggedIn(context);
      const variant = context.params[2] as "original" | "preview" | "thumbnail";
      const download = context.url.searchParams.has("download");
      // The album stays open while the file is looked up, not while it streams.
      const file = await session.fileForContent(context.params[0]!, context.params[1]!);
      // An address with the current version tag always serves these bytes: the browser may keep them.
      const current = context.url.searchParams.get("v") === tags.of(file);
      const served = servedContent(file, variant, download, current);
      // A range of a video not cached yet is served from verified blocks at once.
      if (
        served.chunked &&
        !cache.has(served.key) &&
        (await sendVerifiedRange(
          context.request,
          context.response,
          served.chunked,
          cache,
          session.transfer,
          rangeSlots,
        ))
      ) {
        return;
      }
      const content = await cache.open(served.key, session.fillCache);
      await sendContent(context.request, context.response, content, served.reply);
    },
  },
];

/** Which content answers a request for a file's variant, and how it is labelled. */
function servedContent(
  file: AlbumFile,
  variant: "original" | "preview" | "thumbnail",
  download: boolean,
  currentVersion: boolean,
): { key: string; reply: Parameters<typeof sendContent>[3]; chunked?: ChunkedContent } {
  const media = file.media;
  const renditionKey = variant === "thumbnail" ? media?.thumbnailKey : media?.previewKey;
  const kept = currentVersion && variant !== "original" ? { immutable: true } : {};
  if (variant !== "original" && renditionKey !== undefined) {
    return {
      key: renditionKey,
      reply: { contentType: "image/webp", cacheSeconds: 3600, ...kept },
    };
  }
  const contentType = contentTypeOf(file.name);
  const isImage = contentType.startsWith("image/");
  // Without renditions an image is shown from its original; other kinds have no picture.
  if (variant !== "original" && !isImage) throw notFound("this file has no picture");
  const inline = !download && contentType !== "application/octet-stream";
  const reply = {
    contentType,
    disposition: attachmentDisposition(file.displayName, inline ? "inline" : "attachment"),
    cacheSeconds: 3600,
    ...kept,
  };
  const chunkIndexKey = media?.chunkIndexKey;
  return {
    key: file.contentKey,
    reply,
    ...(chunkIndexKey === undefined
      ? {}
      : { chunked: { key: file.contentKey, size: file.size, chunkIndexKey, reply } }),
  };
}
