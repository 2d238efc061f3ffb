// One logged-in browser session's client core: its own connection to the
// central server (the login lives there), the albums it edits (an
// AlbumSession each, opened when a page of the album connects and handed back
// when the last page of it has been gone for a while), a transfer client for
// the content the pages show, and the live sinks (pages) of each album. It is
// the same client library the shell uses; nothing here speaks HTTP. It never
// hands a content key to a sink.
import { AlbumError, ErrorCode, failedPrecondition } from "../common/album-error.ts";
import type { Logger } from "../common/logger.ts";
import type { CentralClient } from "../client/central-client.ts";
import { DataTransferClient } from "../client/data-transfer/data-transfer-client.ts";
import {
  AlbumSession,
  type AddFileOptions,
  type PeerEndpointOptions,
  type SessionChatMessage,
} from "../client/session/album-session.ts";
import type { AlbumFile } from "../crdt/index.ts";
import { albumView, type AlbumView } from "./album-view.ts";
import type { LiveMessage } from "./live-types.ts";

export type { LiveMessage };

export interface LiveSink {
  send(message: LiveMessage): void;
}

/** Chat lines kept per album for pages that open later (the peers keep 200 too). */
const CHAT_KEPT = 200;
/** Changes within this window go out as one album message. */
const VIEW_COALESCE_MS = 20;

interface OpenAlbum {
  readonly session: AlbumSession;
  readonly sinks: Set<LiveSink>;
  readonly chat: SessionChatMessage[];
  /** Stars this user gave through this web server (the replica keeps only aggregates). */
  readonly myStars: Map<string, number>;
  idleTimer: NodeJS.Timeout | undefined;
  /** Calls running on the session (an upload may take minutes). */
  busy: number;
  /** Thumbnail keys already known to the pages (undefined until the first page attached). */
  knownThumbnails: Set<string> | undefined;
  viewTimer: NodeJS.Timeout | undefined;
}

export interface BrowserSessionOptions {
  central: CentralClient;
  user: string;
  peer: PeerEndpointOptions;
  logger: Logger;
  /** How long an album stays open after its last page left (a reload comes back at once). */
  idleCloseMs: number;
  /**
   * Warms the content cache with a thumbnail a page is about to ask for: the
   * first screen of an album when it opens, and each file added while pages
   * watch. Best effort; never awaited.
   */
  prefetch?: (session: BrowserSession, key: string) => void;
}

/** Thumbnails warmed when an album opens: about a first screen. */
const PREFETCH_FIRST_SCREEN = 60;

export class BrowserSession {
  readonly user: string;
  readonly central: CentralClient;
  readonly transfer: DataTransferClient;
  readonly #options: BrowserSessionOptions;
  readonly #albums = new Map<string, OpenAlbum>();
  readonly #opening = new Map<string, Promise<OpenAlbum>>();
  #closed = false;

  constructor(options: BrowserSessionOptions) {
    this.user = options.user;
    this.central = options.central;
    this.transfer = new DataTransferClient(options.central);
    this.#options = options;
  }

  get isClosed(): boolean {
    return this.#closed || this.central.isClosed;
  }

  /** How many pages have a live channel open (a session with pages is never idle). */
  get livePages(): number {
    let count = 0;
    for (const open of new Set(this.#albums.values())) count += open.sinks.size;
    return count;
  }

  /**
   * Runs `use` on the album's editing session (opened on first use). The
   * album stays open while any call runs or any page is attached.
   */
  async withAlbum<T>(name: string, use: (album: AlbumSession) => Promise<T>): Promise<T> {
    const open = await this.#open(name);
    open.busy++;
    clearTimeout(open.idleTimer);
    open.idleTimer = undefined;
    try {
      return await use(open.session);
    } finally {
      open.busy--;
      this.#closeWhenIdle(open);
    }
  }

  /** Attaches a page: it gets the album and the chat so far, then every change. */
  async attach(name: string, sink: LiveSink): Promise<() => void> {
    const open = await this.#open(name);
    clearTimeout(open.idleTimer);
    open.idleTimer = undefined;
    open.sinks.add(sink);
    this.#prefetchThumbnails(open);
    sink.send({ type: "album", album: this.#view(open) });
    for (const message of open.chat) sink.send({ type: "chat", message });
    return () => {
      open.sinks.delete(sink);
      this.#closeWhenIdle(open);
    };
  }

  #closeWhenIdle(open: OpenAlbum): void {
    if (open.sinks.size > 0 || open.busy > 0 || open.idleTimer) return;
    if (this.#albums.get(open.session.album) !== open) return;
    open.idleTimer = setTimeout(() => {
      open.idleTimer = undefined;
      if (open.sinks.size === 0 && open.busy === 0) void this.#closeAlbum(open);
    }, this.#options.idleCloseMs);
  }

  /** Runs `use` on the file with this FileId (content key included: internal, never to a page). */
  withFile<T>(
    albumName: string,
    fileId: string,
    use: (album: AlbumSession, file: AlbumFile) => Promise<T>,
  ): Promise<T> {
    return this.withAlbum(albumName, (album) => {
      const file = album.filesInDetail().find((candidate) => candidate.fileId === fileId);
      if (!file) throw new AlbumError(ErrorCode.NotFound, "no such file in the album");
      return use(album, file);
    });
  }

  /** Rates by FileId, and remembers our stars for the page. */
  async rate(albumName: string, fileId: string, stars: number): Promise<void> {
    await this.withFile(albumName, fileId, async (album, file) => {
      await album.rateFile(file.displayName, stars);
      const open = this.#albums.get(album.album);
      open?.myStars.set(fileId, stars);
      if (open) this.#scheduleView(open);
    });
  }

  async addFile(
    albumName: string,
    path: string,
    name: string,
    options: AddFileOptions,
  ): Promise<void> {
    await this.withAlbum(albumName, (album) => album.addFile(path, name, undefined, options));
  }

  /** Hands every album back and logs out; the central connection closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#albums.values()].map((open) => this.#closeAlbum(open)));
    await this.central.logout().catch(() => {});
    this.central.close();
    this.transfer.close();
  }

  #open(name: string): Promise<OpenAlbum> {
    if (this.isClosed) return Promise.reject(failedPrecondition("logged out"));
    const open = this.#findOpen(name);
    if (open) return Promise.resolve(open);
    let opening = this.#opening.get(name);
    if (!opening) {
      opening = this.#start(name).finally(() => this.#opening.delete(name));
      this.#opening.set(name, opening);
    }
    return opening;
  }

  #findOpen(name: string): OpenAlbum | undefined {
    const open = this.#albums.get(name);
    if (open && !open.session.isOpen) {
      this.#albums.delete(name);
      return undefined;
    }
    return open;
  }

  async #start(name: string): Promise<OpenAlbum> {
    const chat: SessionChatMessage[] = [];
    const sinks = new Set<LiveSink>();
    const onChat = (message: SessionChatMessage): void => {
      chat.push(message);
      if (chat.length > CHAT_KEPT) chat.shift();
      for (const sink of sinks) sink.send({ type: "chat", message });
    };
    const session = await AlbumSession.open({
      central: this.central,
      album: name,
      user: this.user,
      peer: this.#options.peer,
      logger: this.#options.logger,
      // History arrives while open() runs: keep it from the first line.
      events: { chat: onChat },
    });
    const open: OpenAlbum = {
      session,
      sinks,
      chat,
      myStars: new Map(),
      idleTimer: undefined,
      busy: 0,
      knownThumbnails: undefined,
      viewTimer: undefined,
    };
    const opened = open;
    const refresh = (): void => this.#scheduleView(opened);
    session.on("changed", refresh);
    session.on("editorJoined", refresh);
    session.on("editorLeft", refresh);
    session.on("ended", ({ reason }) => {
      for (const sink of opened.sinks) sink.send({ type: "ended", reason });
      this.#forget(opened);
    });
    this.#albums.set(session.album, open);
    if (session.album !== name) this.#albums.set(name, open);
    return open;
  }

  #view(open: OpenAlbum): AlbumView {
    return albumView(open.session, open.myStars);
  }

  #scheduleView(open: OpenAlbum): void {
    if (open.viewTimer || open.sinks.size === 0) return;
    open.viewTimer = setTimeout(() => {
      open.viewTimer = undefined;
      if (!open.session.isOpen) return;
      this.#prefetchThumbnails(open);
      const message: LiveMessage = { type: "album", album: this.#view(open) };
      for (const sink of open.sinks) sink.send(message);
    }, VIEW_COALESCE_MS);
  }

  #prefetchThumbnails(open: OpenAlbum): void {
    const prefetch = this.#options.prefetch;
    if (!prefetch) return;
    const first = open.knownThumbnails === undefined;
    const known = (open.knownThumbnails ??= new Set());
    let warmed = 0;
    // In page order, so the first screen comes first; later, only files new since the last view.
    for (const file of open.session.filesInDetail()) {
      const key = file.media?.thumbnailKey;
      if (key === undefined || known.has(key)) continue;
      known.add(key);
      if (!first || warmed < PREFETCH_FIRST_SCREEN) {
        prefetch(this, key);
        warmed++;
      }
    }
  }

  #forget(open: OpenAlbum): void {
    clearTimeout(open.idleTimer);
    clearTimeout(open.viewTimer);
    for (const [key, value] of this.#albums) if (value === open) this.#albums.delete(key);
  }

  async #closeAlbum(open: OpenAlbum): Promise<void> {
    this.#forget(open);
    await open.session.close().catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, "handing an album back failed");
    });
  }
}
