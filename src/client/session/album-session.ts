// One editor's editing session of one album, as a library: opens it
// (getAlbum, then the executor binds the peer endpoint, joins the other
// editors, announces us and syncs from the peers), runs the album commands
// against the replica and spreads every change, and hands the replica back on
// close(). Hand-offs, resumes after an outage, the central server's notices
// and the end of the session are decided by the album-session core
// (album-session-core.ts) and carried out by its executor
// (session-executor.ts); this class is the public face over both.
// Every failure surfaces as an AlbumError with a message a person can act on.
// It never prints, and never lets a content key into anything it reports.
import { EventEmitter } from "node:events";
import { basename } from "node:path";
import {
  AlbumError,
  ErrorCode,
  invalidArgument,
  notFound,
  permissionDenied,
} from "../../common/album-error.ts";
import { silentLogger } from "../../common/logger.ts";
import {
  checkFileName,
  checkUserName,
  MAX_STARS,
  MIN_STARS,
  type AlbumFile,
} from "../../crdt/index.ts";
import type { Notification } from "../../gen/albumshare/central/v1/central_pb.ts";
import { SessionKeys } from "../../peer/peer-keys.ts";
import type { SyncOutcome } from "../../peer/session-peer.ts";
import type { OpenedAlbum } from "../central-client.ts";
import { DataTransferClient } from "../data-transfer/data-transfer-client.ts";
import type { ProgressListener } from "../data-transfer/transfer-progress.ts";
import { fileMediaMaker, type FileMediaMaker } from "../renditions/file-media-maker.ts";
import type { AlbumSessionCore } from "./album-session-core.ts";
import { chatView } from "./album-session-core.ts";
import type {
  AddedFile,
  AddFileOptions,
  AlbumSessionEvents,
  AlbumSessionOptions,
  DownloadedFile,
  ListedFile,
  MembershipChange,
  RatedFile,
} from "./album-session-types.ts";
import type { ContentTransfer } from "./content-transfer.ts";
import { downloadTo, uploadAndAdd } from "./file-commands.ts";
import { redactContentKeys } from "./redact-content-keys.ts";
import type { SessionChatMessage, SessionEditorView } from "./session-actions.ts";
import type { SessionCentral } from "./session-central.ts";
import { SessionExecutor } from "./session-executor.ts";

export type * from "./album-session-types.ts";

export class AlbumSession extends EventEmitter<AlbumSessionEvents> {
  /** The album's canonical name. */
  readonly album: string;
  readonly user: string;
  readonly slot: number;
  readonly sessionId: bigint;
  /** How the initial sync from the other editors went; set once open() resolved. */
  syncOutcome: SyncOutcome | undefined;

  readonly #central: SessionCentral;
  readonly #executor: SessionExecutor;
  readonly #core: AlbumSessionCore;
  readonly #transfer: ContentTransfer;
  readonly #fileMedia: FileMediaMaker | undefined;
  /** FileIds we rated, in any session (from getAlbum, then our own ratings). */
  readonly #rated: Set<string>;
  #closing: Promise<void> | undefined;

  private constructor(options: AlbumSessionOptions, opened: OpenedAlbum, keys: SessionKeys) {
    super();
    this.album = opened.album;
    this.user = options.user;
    this.slot = opened.slot;
    this.sessionId = opened.sessionId;
    this.#central = options.central;
    const logger = (options.logger ?? silentLogger()).child({
      component: "album-session",
      album: opened.album,
      slot: opened.slot,
    });
    this.#rated = new Set(opened.ratedFileIds);
    this.#transfer = options.transfer ?? new DataTransferClient(options.central);
    this.#fileMedia =
      options.fileMedia === false ? undefined : (options.fileMedia ?? fileMediaMaker(logger));
    this.#executor = new SessionExecutor(options, opened, keys, {
      events: this,
      transfer: this.#transfer,
      logger,
    });
    this.#core = this.#executor.core;
    const events = options.events ?? {};
    if (events.chat) this.on("chat", events.chat);
    if (events.editorJoined) this.on("editorJoined", events.editorJoined);
    if (events.editorLeft) this.on("editorLeft", events.editorLeft);
    if (events.ended) this.on("ended", events.ended);
    // What was said in earlier sessions (kept by the central server) comes first.
    for (const message of this.#core.history()) this.emit("chat", message);
    if (events.filesChanged) this.on("filesChanged", events.filesChanged);
  }

  /**
   * Opens the editing session of `album`: getAlbum, bind our peer endpoint,
   * join the editors already there, announce our endpoint, and wait for the
   * newest state and the chat history from the peers. On failure after
   * getAlbum, hands the replica back so the slot is freed.
   */
  static async open(options: AlbumSessionOptions): Promise<AlbumSession> {
    // Listen before asking: a notice about the session may follow the reply at once.
    const early: Notification[] = [];
    const keep = (notification: Notification): void => void early.push(notification);
    options.central.on("notification", keep);
    // A fresh key pair for this session only: the server vouches for its public half.
    const keys = SessionKeys.generate();
    let opened: OpenedAlbum;
    try {
      opened = await options.central.getAlbum(options.album, keys.publicKey);
    } catch (error) {
      throw AlbumError.from(error, ErrorCode.Unavailable);
    } finally {
      options.central.off("notification", keep);
    }
    let session: AlbumSession;
    try {
      session = new AlbumSession(options, opened, keys);
    } catch (error) {
      await options.central.putAlbum(opened.album, opened.replica).catch(() => {});
      throw AlbumError.from(error);
    }
    for (const notification of early) {
      session.#executor.run(session.#core.notice(notification));
    }
    try {
      session.syncOutcome = await session.#executor.start(options.peer);
    } catch (error) {
      await session.#executor.abandon();
      throw AlbumError.from(error);
    }
    return session;
  }

  /** True until close() or the end of the session. */
  get isOpen(): boolean {
    return this.#core.state === "open";
  }

  /** Why the session ended, once it has. */
  get endReason(): string | undefined {
    return this.#core.endReason;
  }

  /** "host:port" the other editors reach us at. */
  get address(): string {
    return this.#executor.mesh.address;
  }

  /** The other editors of the session, by slot. */
  editors(): SessionEditorView[] {
    return this.#core.editors();
  }

  members(): readonly string[] {
    return this.#core.replica.members();
  }

  /** True while some change (ours or a peer's) has not been acknowledged by the central server. */
  get hasUnhandedChanges(): boolean {
    return this.#core.replica.hasUnhandedChanges;
  }

  // ---- the album commands --------------------------------------------------------

  listFiles(): ListedFile[] {
    this.#core.requireOpen();
    return this.#core.replica.files().map(listedFile);
  }

  /**
   * Every file with its FileId and content key, for a trusted embedder (the
   * web app) that serves content by album and FileId: never show the key.
   */
  filesInDetail(): readonly AlbumFile[] {
    this.#core.requireOpen();
    return this.#core.replica.files();
  }

  /** True when we rated this file, in this session or an earlier one. */
  hasRated(fileId: string): boolean {
    return this.#rated.has(fileId);
  }

  /** The replica's debug view: members, files, ratings, causal metadata; never a content key. */
  listReplica(): string {
    this.#core.requireOpen();
    return redactContentKeys(this.#core.replica.describe());
  }

  /**
   * Uploads the file at `path` to the data servers and, once the owner
   * confirmed it, adds it to the album as `name` (default: the file's base name).
   */
  addFile(
    path: string,
    name?: string,
    onProgress?: ProgressListener,
    options: AddFileOptions = {},
  ): Promise<AddedFile> {
    return this.#operation(async () => {
      const fileName = checkFileName(name ?? basename(path));
      this.#requireMember();
      return uploadAndAdd(
        {
          replica: this.#core.replica,
          transfer: this.#transfer,
          fileMedia: this.#fileMedia,
          requireOpen: () => this.#core.requireOpen(),
          spread: (delta) => this.#spread(delta),
        },
        { path, fileName, onProgress, ...options },
      );
    });
  }

  removeFile(displayName: string): Promise<{ name: string }> {
    return this.#operation(() => {
      this.#spread(this.#core.replica.removeFile(displayName));
      return Promise.resolve({ name: displayName });
    });
  }

  /**
   * Rates a file 0-5 stars, once per user and file, ever: the central server
   * records the rating first, then it is applied to the replica.
   */
  rateFile(displayName: string, stars: number): Promise<RatedFile> {
    return this.#operation(async () => {
      if (!Number.isInteger(stars) || stars < MIN_STARS || stars > MAX_STARS) {
        throw invalidArgument(`rating must be a whole number from ${MIN_STARS} to ${MAX_STARS}`);
      }
      const file = this.#core.replica.file(displayName);
      this.#requireMember();
      const alreadyRated = (): AlbumError =>
        new AlbumError(ErrorCode.AlreadyExists, `you have already rated '${displayName}'`);
      if (this.#rated.has(file.fileId)) throw alreadyRated();
      try {
        await this.#central.recordRating(this.album, file.fileId, stars);
      } catch (error) {
        const failure = AlbumError.from(error, ErrorCode.Unavailable);
        if (failure.code !== ErrorCode.AlreadyExists) throw failure;
        this.#rated.add(file.fileId);
        throw alreadyRated();
      }
      this.#rated.add(file.fileId);
      this.#core.requireOpen();
      // Concurrent edits may have renamed (disambiguated) or removed it meanwhile.
      const current = this.#fileById(file.fileId, displayName);
      if (!current) throw notFound(`'${displayName}' was removed from the album meanwhile`);
      this.#spread(this.#core.replica.rateFile(current.displayName, stars));
      const rated = this.#fileById(file.fileId, current.displayName) ?? current;
      return {
        name: rated.displayName,
        stars,
        average: rated.average,
        ratings: rated.ratingCount,
      };
    });
  }

  /** Adds a registered user to the album's members; the central server learns of it at once. */
  addUser(name: string): Promise<MembershipChange> {
    return this.#operation(async () => {
      checkUserName(name);
      this.#requireMember();
      if (this.#core.replica.members().includes(name)) {
        throw new AlbumError(
          ErrorCode.AlreadyExists,
          `'${name}' is already a member of '${this.album}'`,
        );
      }
      const exists = await this.#central.userExists(name);
      if (!exists) throw notFound(`user '${name}' does not exist`);
      this.#core.requireOpen();
      const handedOff = await this.#executor.membershipChange(this.#core.replica.addMember(name));
      return { user: name, members: this.#core.replica.members(), handedOff };
    });
  }

  /** Removes a member; the central server learns of it at once (and ends their session). */
  removeUser(name: string): Promise<MembershipChange> {
    return this.#operation(async () => {
      const handedOff = await this.#executor.membershipChange(
        this.#core.replica.removeMember(name),
      );
      return { user: name, members: this.#core.replica.members(), handedOff };
    });
  }

  /**
   * Downloads a file's content, verified, to `dest` (default: the display name
   * in the current directory; a directory gets the display name inside it).
   */
  downloadFile(
    displayName: string,
    dest?: string,
    onProgress?: ProgressListener,
    signal?: AbortSignal,
  ): Promise<DownloadedFile> {
    return this.#operation(() =>
      downloadTo(this.#core.replica, this.#transfer, { displayName, dest, onProgress, signal }),
    );
  }

  /** Sends a chat message to the album's editors (it is delivered to us too, as a chat event). */
  chat(text: string): Promise<SessionChatMessage> {
    return this.#operation(async () => chatView(await this.#executor.peer.sendChat(text)));
  }

  // ---- ending ----------------------------------------------------------------------

  /**
   * putAlbum: hands the final replica to the central server and leaves the
   * session. Safe to call twice (the same promise) and after the session
   * ended (resolves at once). The session is over even when the hand-back
   * fails; the error then says so. Refused while the central server is
   * unreachable (the session stays open).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#core.state === "ended") return Promise.resolve();
    try {
      this.#executor.run(this.#core.close());
    } catch (error) {
      return Promise.reject(AlbumError.from(error));
    }
    this.#closing = this.#executor.stopped.then((failure: unknown) => {
      if (failure === undefined) return;
      const cause = AlbumError.from(failure, ErrorCode.Unavailable);
      throw new AlbumError(
        cause.code,
        `could not hand '${this.album}' back to the central server: ${cause.message}`,
        { cause },
      );
    });
    return this.#closing;
  }

  // ---- helpers -----------------------------------------------------------------------

  /** Runs a command: the session must be open; every failure becomes a clean AlbumError. */
  async #operation<T>(body: () => Promise<T>): Promise<T> {
    this.#core.requireOpen();
    try {
      return await body();
    } catch (error) {
      const failure = AlbumError.from(error);
      const message = redactContentKeys(failure.message);
      if (message === failure.message) throw failure;
      throw new AlbumError(failure.code, message);
    }
  }

  /** The CRDT refuses a non-member's change too; checking first avoids a useless upload or rating. */
  #requireMember(): void {
    if (!this.#core.replica.members().includes(this.user)) {
      throw permissionDenied(`${this.user} is not a member of the album`);
    }
  }

  #spread(delta: Uint8Array): void {
    this.#executor.run(this.#core.localChange(delta));
  }

  /** The file with this FileId, looked up by its likely display name first (no listing built). */
  #fileById(fileId: string, likelyName: string): AlbumFile | undefined {
    const byName = this.#core.replica.findFile(likelyName);
    if (byName?.fileId === fileId) return byName;
    return this.#core.replica.files().find((file) => file.fileId === fileId);
  }
}

function listedFile(file: AlbumFile): ListedFile {
  return {
    name: file.displayName,
    average: file.average,
    ratings: file.ratingCount,
    size: file.size,
    addedBy: file.addedBy,
    addedAt: file.media?.addedAt ?? null,
  };
}
