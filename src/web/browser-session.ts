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
import type { OpenedAlbum } from "../client/central-client.ts";
import type { AlbumFile } from "../crdt/index.ts";
import { albumView, type AlbumView } from "./album-view.ts";
import type { VerifiedFetch } from "./content-cache.ts";
import { EarlyAlbum, tapGetAlbum } from "./early-album.ts";
import type { RenditionTags } from "./rendition-tag.ts";
import type { LiveMessage } from "./live-types.ts";

export type { LiveMessage };

export interface LiveSink {
  send(message: LiveMessage): void;
}

/** Chat lines kept per album for pages that open later (the peers keep 200 too). */
const CHAT_KEPT = 200;
/** Changes within this window go out as one album message. */
const VIEW_COALESCE_MS = 20;

/** An album whose session is opening: the pages already waiting for it, and the chat so far. */
interface OpeningAlbum {
  readonly sinks: Set<LiveSink>;
  readonly chat: SessionChatMessage[];
  /** Thumbnail keys already prefetched for the pages. */
  readonly knownThumbnails: Set<string>;
  /** The central server's replica, once getAlbum answered: shown before the session is open. */
  early: EarlyAlbum | undefined;
  /** What the waiting pages were sent from it (JSON): the open session's view is sent only if it differs. */
  earlyJson: string | undefined;
}

interface OpenAlbum {
  readonly session: AlbumSession;
  readonly sinks: Set<LiveSink>;
  readonly chat: SessionChatMessage[];
  /** Stars this user gave through this web server (the replica keeps only aggregates). */
  readonly myStars: Map<string, number>;
  idleTimer: NodeJS.Timeout | undefined;
  /** Calls running on the session (an upload may take minutes). */
  busy: number;
  /** Thumbnail keys already prefetched for the pages. */
  readonly knownThumbnails: Set<string>;
  viewTimer: NodeJS.Timeout | undefined;
}

export interface BrowserSessionOptions {
  central: CentralClient;
  user: string;
  peer: PeerEndpointOptions;
  logger: Logger;
  /** How long an album stays open after its last page left (a reload comes back at once). */
  idleCloseMs: number;
  /** The version tags of the pictures' addresses (shared by the server's sessions). */
  tags: RenditionTags;
  /**
   * Warms the content cache with a thumbnail a page is about to ask for: the
   * first screen of an album when it opens, and each file added while pages
   * watch. Best effort; resolves when that thumbnail is cached (or given up).
   */
  prefetch?: (session: BrowserSession, key: string) => Promise<void>;
}

/** Thumbnails warmed when an album opens: a first screen (what a page loads at once, app/gallery.ts). */
const PREFETCH_FIRST_SCREEN = 48;
/**
 * How long the rest of an album's opening (decoding the replica for the
 * editing session, the peer endpoint, the announce) waits for the first
 * screen's thumbnails: that work holds the web server's thread for a while
 * on a large album, and the page is asking for them right then.
 */
const FIRST_SCREEN_HEAD_START_MS = 1000;

export class BrowserSession {
  readonly user: string;
  readonly central: CentralClient;
  readonly transfer: DataTransferClient;
  readonly #options: BrowserSessionOptions;
  readonly #albums = new Map<string, OpenAlbum>();
  readonly #opening = new Map<string, Promise<OpenAlbum>>();
  /** What pages of an opening album see meanwhile, by the name they asked for. */
  readonly #waiting = new Map<string, OpeningAlbum>();
  #closed = false;

  /**
   * Fills the web server's content cache (content-cache.ts) through this
   * session's transfer client: verified, not flushed (the cache is emptied
   * at every start, so it needs no durability).
   */
  readonly fillCache: VerifiedFetch = async (key, path) => {
    await this.transfer.download(key, path, undefined, undefined, { durable: false });
  };

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

  /**
   * Attaches a page: it gets the album and the chat so far, then every
   * change. While the album opens, the page gets the central server's
   * replica as soon as it arrives, and the open session's view after.
   */
  async attach(name: string, sink: LiveSink): Promise<() => void> {
    const opening = this.#open(name);
    const waiting = this.#findOpen(name) ? undefined : this.#waiting.get(name);
    if (waiting) {
      waiting.sinks.add(sink);
      if (waiting.early) sink.send({ type: "album", album: this.#earlyView(waiting.early) });
      for (const message of waiting.chat) sink.send({ type: "chat", message });
    }
    let open: OpenAlbum;
    try {
      open = await opening;
    } catch (error) {
      waiting?.sinks.delete(sink);
      throw error;
    }
    clearTimeout(open.idleTimer);
    open.idleTimer = undefined;
    if (!open.sinks.has(sink)) {
      open.sinks.add(sink);
      void this.#prefetchThumbnails(open.knownThumbnails, open.session.filesInDetail());
      sink.send({ type: "album", album: this.#view(open) });
      for (const message of open.chat) sink.send({ type: "chat", message });
    }
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

  /**
   * The file with this FileId, for serving its content: from the open
   * session, or from the central server's replica while the album opens
   * (the page shows those files already).
   */
  async fileForContent(albumName: string, fileId: string): Promise<AlbumFile> {
    if (!this.#findOpen(albumName)) {
      const early = this.#waiting.get(albumName)?.early;
      const file = early?.filesInDetail().find((candidate) => candidate.fileId === fileId);
      if (file) return file;
    }
    return this.withFile(albumName, fileId, (_, file) => Promise.resolve(file));
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
    const waiting: OpeningAlbum = {
      sinks: new Set(),
      chat: [],
      knownThumbnails: new Set(),
      early: undefined,
      earlyJson: undefined,
    };
    this.#waiting.set(name, waiting);
    // The first screen's thumbnails are fetched as soon as the replica arrives.
    void this.transfer.warmUp();
    try {
      return await this.#startWaiting(name, waiting);
    } finally {
      this.#waiting.delete(name);
    }
  }

  /**
   * The central server's replica arrived: the waiting pages see it, and its
   * first screen of thumbnails is fetched; resolves when they are cached (or
   * after a bounded head start), for the opening to go on.
   */
  async #onReplica(waiting: OpeningAlbum, opened: OpenedAlbum): Promise<void> {
    // Opened for an API call, no page waiting: the session decodes the replica itself.
    if (waiting.sinks.size === 0) return;
    const early = new EarlyAlbum(opened, this.user);
    waiting.early = early;
    const fetched = this.#prefetchThumbnails(waiting.knownThumbnails, early.filesInDetail());
    const message: LiveMessage = { type: "album", album: this.#earlyView(early) };
    waiting.earlyJson = JSON.stringify(message);
    for (const sink of waiting.sinks) sink.send(message);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      fetched,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_SCREEN_HEAD_START_MS))),
    ]);
    clearTimeout(timer);
  }

  async #startWaiting(name: string, waiting: OpeningAlbum): Promise<OpenAlbum> {
    const { chat, sinks } = waiting;
    const onChat = (message: SessionChatMessage): void => {
      chat.push(message);
      if (chat.length > CHAT_KEPT) chat.shift();
      for (const sink of sinks) sink.send({ type: "chat", message });
    };
    const session = await AlbumSession.open({
      central: tapGetAlbum(this.central, (opened) => this.#onReplica(waiting, opened)),
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
      knownThumbnails: waiting.knownThumbnails,
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
    if (sinks.size > 0) {
      // The pages saw the central server's replica; the peers may have brought news.
      void this.#prefetchThumbnails(open.knownThumbnails, session.filesInDetail());
      const message: LiveMessage = { type: "album", album: this.#view(open) };
      if (JSON.stringify(message) !== waiting.earlyJson)
        for (const sink of sinks) sink.send(message);
    }
    return open;
  }

  #view(open: OpenAlbum): AlbumView {
    return albumView(open.session, open.myStars, this.#versionOf);
  }

  #earlyView(early: EarlyAlbum): AlbumView {
    return albumView(early, new Map(), this.#versionOf);
  }

  readonly #versionOf = (file: AlbumFile): string => this.#options.tags.of(file);

  #scheduleView(open: OpenAlbum): void {
    if (open.viewTimer || open.sinks.size === 0) return;
    open.viewTimer = setTimeout(() => {
      open.viewTimer = undefined;
      if (!open.session.isOpen) return;
      void this.#prefetchThumbnails(open.knownThumbnails, open.session.filesInDetail());
      const message: LiveMessage = { type: "album", album: this.#view(open) };
      for (const sink of open.sinks) sink.send(message);
    }, VIEW_COALESCE_MS);
  }

  /**
   * Warms the cache with the thumbnails not prefetched yet, in page order:
   * the first screen when an album opens (no more), every new file after.
   */
  #prefetchThumbnails(known: Set<string>, files: readonly AlbumFile[]): Promise<unknown> {
    const prefetch = this.#options.prefetch;
    if (!prefetch) return Promise.resolve();
    const first = known.size === 0;
    const fetching: Promise<void>[] = [];
    for (const file of files) {
      const key = file.media?.thumbnailKey;
      if (key === undefined || known.has(key)) continue;
      known.add(key);
      if (!first || fetching.length < PREFETCH_FIRST_SCREEN) fetching.push(prefetch(this, key));
    }
    return Promise.all(fetching);
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
