// One editor's editing session of one album, as a library: opens it
// (getAlbum, bind the peer endpoint, join the other editors, announce
// ourselves, sync from the peers), runs the album commands against the local
// replica and spreads every change to the peers, hands changes off to the
// central server periodically, follows the central server's notices (who
// joined, who left, our session ended), and hands the replica back on close().
// Every failure surfaces as an AlbumError with a message a person can act on.
// It never prints, and never lets a content key into anything it reports.
import { create } from "@bufbuild/protobuf";
import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
  AlbumError,
  ErrorCode,
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
} from "../../common/album-error.ts";
import { silentLogger, type Logger } from "../../common/logger.ts";
import {
  checkFileName,
  checkUserName,
  MAX_STARS,
  MIN_STARS,
  type AlbumFile,
} from "../../crdt/index.ts";
import {
  LeaveReason,
  SessionEditorSchema,
  type EditorLeft,
  type Notification,
  type SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import { PeerMesh, type PeerAddress } from "../../peer/peer-mesh.ts";
import { SessionKeys } from "../../peer/peer-keys.ts";
import { SessionPeer, type SessionPeerOptions, type SyncOutcome } from "../../peer/session-peer.ts";
import type { ChatEntry } from "../../peer/chat-history.ts";
import type { OpenedAlbum } from "../central-client.ts";
import { DataTransferClient } from "../data-transfer/data-transfer-client.ts";
import type { ProgressListener } from "../data-transfer/transfer-progress.ts";
import { fileMediaMaker, type FileMediaMaker } from "../renditions/file-media-maker.ts";
import type { ContentTransfer } from "./content-transfer.ts";
import { EditorReplica } from "./editor-replica.ts";
import { fileChanges, snapshotFiles, type FileChange, type FileSnapshot } from "./file-changes.ts";
import { HandOffLoop } from "./hand-off-loop.ts";
import { redactContentKeys } from "./redact-content-keys.ts";
import type { SessionCentral } from "./session-central.ts";
import { VouchedFacts } from "./vouched-facts.ts";
import { SessionResume } from "./session-resume.ts";

/** Where our peer endpoint binds, and what the other editors should dial. */
export interface PeerEndpointOptions {
  bindHost: string;
  /** 0 = an ephemeral port. */
  bindPort: number;
  advertisedHost?: string;
  advertisedPort?: number;
}

export interface AlbumSessionOptions {
  central: SessionCentral;
  album: string;
  /** The logged-in user (the sender name of our chat, the author of our changes). */
  user: string;
  peer: PeerEndpointOptions;
  logger?: Logger;
  /** Uploads and downloads (closed with the session); default: a DataTransferClient routed by the central connection's ring. */
  transfer?: ContentTransfer;
  /**
   * Listeners attached before the session starts: a newcomer's chat history
   * is delivered while open() runs, before the caller could attach them.
   */
  events?: SessionListeners;
  /**
   * What an added file records for the web app (thumbnail, preview, size,
   * dates); default: sharp renditions. False: record nothing (tests).
   */
  fileMedia?: FileMediaMaker | false;
  /** Overrides the central server's hand-off period (tests). */
  handOffIntervalMs?: number;
  /** Tuning of the peer engine (tests). */
  peerTuning?: Pick<
    SessionPeerOptions,
    "antiEntropyIntervalMs" | "repairDelayMs" | "initialSyncRetryMs" | "initialSyncTimeoutMs"
  >;
}

export interface SessionEditorView {
  slot: number;
  user: string;
}

export type LeaveKind = "left" | "lost" | "removed";

export interface EditorLeftView extends SessionEditorView {
  reason: LeaveKind;
}

export interface SessionChatMessage {
  /** The sender's user name. */
  from: string;
  slot: number;
  text: string;
  /** When the sender sent it, unix ms (the sender's clock). */
  time: number;
}

export interface SessionEnd {
  reason: string;
}

export interface AlbumSessionEvents {
  /** A chat message delivered, ours included, in causal order, each once (history first for a newcomer). */
  chat: [SessionChatMessage];
  editorJoined: [SessionEditorView];
  editorLeft: [EditorLeftView];
  /** The session ended without close(): removed from the members, session ended by the server, connection lost. */
  ended: [SessionEnd];
  /** The replica changed (a local command or a peer's delta): files, members or ratings. */
  changed: [];
  /** Another editor's changes to the files arrived (`by`: the editor who sent them, if known). */
  filesChanged: [{ by: string | undefined; changes: FileChange[] }];
}

export type SessionListeners = {
  [K in keyof AlbumSessionEvents]?: (...args: AlbumSessionEvents[K]) => void;
};

export interface ListedFile {
  /** The display name (unique in the listing): what commands take. */
  name: string;
  /** Average rating, or null before the first rating. */
  average: number | null;
  /** Number of ratings. */
  ratings: number;
  size: number;
  addedBy: string;
  /** When it was added (the adder's clock), unix ms; null when not recorded. */
  addedAt: number | null;
}

export interface AddedFile {
  name: string;
  size: number;
  /** The data servers held the content already (nothing was sent). */
  alreadyStored: boolean;
  /** Bytes an earlier, cut-off upload had sent: only the rest was sent now (absent: none). */
  resumedFrom?: number;
}

export interface AddFileOptions {
  /** A still frame of a video to make its thumbnail and preview from (the browser draws one). */
  posterPath?: string;
  /** Cancels the upload (nothing is added then). */
  signal?: AbortSignal;
}

export interface RatedFile {
  name: string;
  stars: number;
  average: number | null;
  ratings: number;
}

export interface DownloadedFile {
  name: string;
  path: string;
  size: number;
}

export interface MembershipChange {
  user: string;
  members: readonly string[];
  /** False when the immediate hand-off failed (it is retried with the next periodic one). */
  handedOff: boolean;
}

const DEFAULT_HAND_OFF_INTERVAL_MS = 2000;

type SessionState = "opening" | "open" | "closing" | "ended";

export class AlbumSession extends EventEmitter<AlbumSessionEvents> {
  /** The album's canonical name. */
  readonly album: string;
  readonly user: string;
  readonly slot: number;
  readonly sessionId: bigint;
  /** How the initial sync from the other editors went; set once open() resolved. */
  syncOutcome: SyncOutcome | undefined;

  readonly #central: SessionCentral;
  readonly #replica: EditorReplica;
  readonly #mesh: PeerMesh;
  readonly #peer: SessionPeer;
  readonly #transfer: ContentTransfer;
  readonly #handOffs: HandOffLoop;
  readonly #fileMedia: FileMediaMaker | undefined;
  /** Carries the session over a lost central connection; keeps chat for hand-offs. */
  readonly #resume: SessionResume;
  readonly #logger: Logger;
  /** FileIds we rated, in any session (from getAlbum, then our own ratings). */
  readonly #rated: Set<string>;
  /** The other editors of the session, by slot. */
  readonly #editors = new Map<number, PeerAddress>();
  /** Slots and rating tallies the central server vouched for: remote deltas are checked against them. */
  readonly #facts: VouchedFacts;
  /** Notifications that arrived before the peer engine could act on them. */
  readonly #early: Notification[] = [];
  #state: SessionState = "opening";
  #endReason: string | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: AlbumSessionOptions, opened: OpenedAlbum, keys: SessionKeys) {
    super();
    this.album = opened.album;
    this.user = options.user;
    this.slot = opened.slot;
    this.sessionId = opened.sessionId;
    this.#central = options.central;
    this.#logger = (options.logger ?? silentLogger()).child({
      component: "album-session",
      album: opened.album,
      slot: opened.slot,
    });
    this.#rated = new Set(opened.ratedFileIds);
    this.#facts = new VouchedFacts(Math.max(opened.highestSlot, opened.slot), opened.ratingTallies);
    this.#replica = new EditorReplica(
      opened.replica,
      { slot: opened.slot, user: options.user },
      this.#facts,
      () => this.emit("changed"),
    );
    this.#mesh = new PeerMesh({
      slot: opened.slot,
      keys,
      sessionToken: opened.sessionToken,
      bindHost: options.peer.bindHost,
      bindPort: options.peer.bindPort,
      ...(options.peer.advertisedHost !== undefined
        ? { advertisedHost: options.peer.advertisedHost }
        : {}),
      ...(options.peer.advertisedPort !== undefined
        ? { advertisedPort: options.peer.advertisedPort }
        : {}),
      logger: this.#logger,
    });
    const initialPeers = opened.editors
      .filter((editor) => editor.slot !== opened.slot)
      .map(({ slot, user, address, publicKey }) => ({ slot, user, address, publicKey }));
    for (const peer of initialPeers) this.#editors.set(peer.slot, peer);
    this.#peer = new SessionPeer({
      mesh: this.#mesh,
      user: options.user,
      sessionToken: opened.sessionToken,
      replica: this.#replica,
      initialPeers,
      pastEditors: opened.pastEditors,
      logger: this.#logger,
      ...options.peerTuning,
    });
    this.#resume = new SessionResume({
      central: options.central,
      opened,
      replica: this.#replica,
      address: () => this.#mesh.address,
      logger: this.#logger,
      resumed: (editors) => {
        for (const editor of editors) this.#editorJoined(create(SessionEditorSchema, editor));
      },
      end: (reason) => this.#end(reason),
    });
    this.#peer.on("chat", (entry) => {
      this.#resume.recordChat(entry);
      this.emit("chat", chatView(entry));
    });
    const events = options.events ?? {};
    if (events.chat) this.on("chat", events.chat);
    if (events.editorJoined) this.on("editorJoined", events.editorJoined);
    if (events.editorLeft) this.on("editorLeft", events.editorLeft);
    if (events.ended) this.on("ended", events.ended);
    // What was said in earlier sessions (kept by the central server) comes first.
    for (const kept of SessionResume.history(opened)) {
      this.emit("chat", {
        from: kept.sender,
        slot: kept.slot,
        text: kept.text,
        time: kept.sentAtUnixMs,
      });
    }
    if (events.filesChanged) this.on("filesChanged", events.filesChanged);
    this.#peer.on("remoteDelta", (from) => this.#announceFileChanges(from));
    this.#transfer = options.transfer ?? new DataTransferClient(options.central);
    this.#fileMedia =
      options.fileMedia === false ? undefined : (options.fileMedia ?? fileMediaMaker(this.#logger));
    this.#handOffs = new HandOffLoop({
      intervalMs:
        options.handOffIntervalMs ?? (opened.handOffIntervalMs || DEFAULT_HAND_OFF_INTERVAL_MS),
      hasChanges: () =>
        this.#replica.hasUnhandedChanges || this.#resume.chatForHandOff().messages.length > 0,
      handOff: async () => {
        const { delta, receipt } = this.#replica.prepareHandOff();
        const chat = this.#resume.chatForHandOff();
        await this.#central.handOff(this.album, delta, chat.messages);
        this.#replica.acknowledgeHandOff(receipt);
        this.#resume.acknowledgeChat(chat.receipt);
      },
      onError: (error) =>
        this.#logger.warn({ err: error }, "hand-off failed; retrying at the next period"),
    });
    this.#central.on("notification", this.#onNotification);
    this.#central.on("close", this.#onCentralClosed);
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
    session.#early.push(...early);
    try {
      await session.#start(options.peer);
    } catch (error) {
      await session.#abandon();
      throw AlbumError.from(error);
    }
    return session;
  }

  /** True until close() or the end of the session. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Why the session ended, once it has. */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  /** "host:port" the other editors reach us at. */
  get address(): string {
    return this.#mesh.address;
  }

  /** The other editors of the session, by slot. */
  editors(): SessionEditorView[] {
    return [...this.#editors.values()]
      .map(({ slot, user }) => ({ slot, user }))
      .sort((a, b) => a.slot - b.slot);
  }

  members(): readonly string[] {
    return this.#replica.members();
  }

  /** True while some change (ours or a peer's) has not been acknowledged by the central server. */
  get hasUnhandedChanges(): boolean {
    return this.#replica.hasUnhandedChanges;
  }

  // ---- the album commands --------------------------------------------------------

  listFiles(): ListedFile[] {
    this.#requireOpen();
    return this.#replica.files().map(listedFile);
  }

  /**
   * Every file with its FileId and content key, for a trusted embedder (the
   * web app) that serves content by album and FileId: never show the key.
   */
  filesInDetail(): readonly AlbumFile[] {
    this.#requireOpen();
    return this.#replica.files();
  }

  /** True when we rated this file, in this session or an earlier one. */
  hasRated(fileId: string): boolean {
    return this.#rated.has(fileId);
  }

  /** The replica's debug view: members, files, ratings, causal metadata; never a content key. */
  listReplica(): string {
    this.#requireOpen();
    return redactContentKeys(this.#replica.describe());
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
      if (this.#replica.hasFileNamed(fileName)) {
        throw new AlbumError(
          ErrorCode.AlreadyExists,
          `a file named '${fileName}' is already in the album; remove it first or add yours under another name (addFile <path> <name>)`,
        );
      }
      await checkLocalFile(path);
      const startedAt = Date.now();
      // Renditions are made while the original uploads (they read the same local file).
      const making = this.#fileMedia?.(
        {
          path,
          name: fileName,
          ...(options.posterPath ? { posterPath: options.posterPath } : {}),
        },
        this.#transfer,
      );
      making?.catch(() => {}); // awaited below; only reported if the original made it
      const uploaded = await this.#transfer
        .upload(path, onProgress, options.signal)
        .catch((error: unknown) => Promise.reject(dataPathError(error, "upload")));
      const media = await making?.catch((error: unknown) =>
        Promise.reject(dataPathError(error, "upload")),
      );
      this.#requireOpen();
      this.#spread(
        this.#replica.addFile({
          name: fileName,
          contentKey: uploaded.key,
          size: uploaded.size,
          // listFiles shows when each file was added: a maker that left the date out still gets it.
          ...(media ? { media: { ...media, addedAt: media.addedAt ?? startedAt } } : {}),
        }),
      );
      const likely = this.#replica.findFile(fileName);
      const added =
        likely?.contentKey === uploaded.key
          ? likely
          : this.#replica
              .files()
              .find((file) => file.name === fileName && file.contentKey === uploaded.key);
      return {
        name: added?.displayName ?? fileName,
        size: uploaded.size,
        alreadyStored: uploaded.alreadyPresent,
        // Absent unless resumed: scripts compare this result whole.
        ...(uploaded.resumedFrom ? { resumedFrom: uploaded.resumedFrom } : {}),
      };
    });
  }

  removeFile(displayName: string): Promise<{ name: string }> {
    return this.#operation(() => {
      this.#spread(this.#replica.removeFile(displayName));
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
      const file = this.#replica.file(displayName);
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
      this.#requireOpen();
      // Concurrent edits may have renamed (disambiguated) or removed it meanwhile.
      const current = this.#fileById(file.fileId, displayName);
      if (!current) throw notFound(`'${displayName}' was removed from the album meanwhile`);
      this.#spread(this.#replica.rateFile(current.displayName, stars));
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
      if (this.#replica.members().includes(name)) {
        throw new AlbumError(
          ErrorCode.AlreadyExists,
          `'${name}' is already a member of '${this.album}'`,
        );
      }
      const exists = await this.#central.userExists(name);
      if (!exists) throw notFound(`user '${name}' does not exist`);
      this.#requireOpen();
      this.#spread(this.#replica.addMember(name));
      const handedOff = await this.#handOffs.now();
      return { user: name, members: this.#replica.members(), handedOff };
    });
  }

  /** Removes a member; the central server learns of it at once (and ends their session). */
  removeUser(name: string): Promise<MembershipChange> {
    return this.#operation(async () => {
      this.#spread(this.#replica.removeMember(name));
      const handedOff = await this.#handOffs.now();
      return { user: name, members: this.#replica.members(), handedOff };
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
    return this.#operation(async () => {
      const file = this.#replica.file(displayName);
      let path = resolve(dest ?? file.displayName);
      if (dest !== undefined && (await isDirectory(path))) path = join(path, file.displayName);
      const result = await this.#transfer
        .download(file.contentKey, path, onProgress, signal)
        .catch((error: unknown) => Promise.reject(dataPathError(error, "download", displayName)));
      return { name: file.displayName, path, size: result.size };
    });
  }

  /** Sends a chat message to the album's editors (it is delivered to us too, as a chat event). */
  chat(text: string): Promise<SessionChatMessage> {
    return this.#operation(async () => chatView(await this.#peer.sendChat(text)));
  }

  // ---- ending ----------------------------------------------------------------------

  /**
   * putAlbum: hands the final replica to the central server and leaves the
   * session. Safe to call twice (the same promise) and after the session
   * ended (resolves at once). The session is over even when the hand-back
   * fails; the error then says so.
   */
  close(): Promise<void> {
    if (!this.#closing && this.#state === "open") {
      try {
        this.#resume.checkCanHandBack(this.album);
      } catch (error) {
        return Promise.reject(AlbumError.from(error));
      }
    }
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === "ended") return;
    this.#state = "closing";
    await this.#handOffs.stop();
    let failure: AlbumError | undefined;
    try {
      // What the server lacks (it holds everything it acknowledged): the size
      // of the recent edits, not of the album.
      await this.#central.putAlbum(
        this.album,
        this.#replica.prepareHandOff().delta,
        this.#resume.chatForHandOff().messages,
      );
    } catch (error) {
      failure = AlbumError.from(error, ErrorCode.Unavailable);
    }
    await this.#shutdown("closed");
    if (failure) {
      throw new AlbumError(
        failure.code,
        `could not hand '${this.album}' back to the central server: ${failure.message}`,
        { cause: failure },
      );
    }
  }

  async #start(peer: PeerEndpointOptions): Promise<void> {
    try {
      await this.#mesh.start();
    } catch (error) {
      const failure = AlbumError.from(error, ErrorCode.Unavailable);
      throw new AlbumError(
        failure.code,
        `cannot bind the peer endpoint on ${peer.bindHost}:${peer.bindPort}: ${failure.message}`,
        { cause: failure },
      );
    }
    // Admit the editors already there, then announce: they admit our key
    // before we dial them and we theirs before they dial us (a handshake
    // refused for want of a notice is retried, but costs a round).
    for (const editor of this.#editors.values()) this.#mesh.admit(editor);
    await this.#central.announceEditor(this.album, this.#mesh.address);
    await this.#peer.start();
    this.#state = "open";
    for (const notification of this.#early.splice(0)) this.#onNotification(notification);
    if (this.#state !== "open") throw this.#endedError();
    this.#handOffs.start();
    this.syncOutcome = await this.#peer.whenSynced();
    // What the initial sync brought is the state we start from, not news.
    this.#announced = snapshotFiles(this.#replica.files());
    if (this.#state !== "open") throw this.#endedError();
  }

  /** Open failed half-way: hand back what we got so the slot is freed, and stop. */
  async #abandon(): Promise<void> {
    if (this.#state === "ended") return;
    this.#state = "closing";
    await this.#handOffs.stop();
    if (!this.#central.isClosed) {
      await this.#central.putAlbum(this.album, this.#replica.encodedState()).catch(() => {});
    }
    await this.#shutdown("open failed");
  }

  /** The session ended without close(): stop everything and say why. */
  #end(reason: string): void {
    if (this.#state === "ended" || this.#state === "closing") return;
    const wasOpen = this.#state === "open";
    this.#endReason = reason;
    this.#state = "ended";
    void this.#handOffs.stop();
    void this.#shutdown(reason).then(() => {
      if (wasOpen) this.emit("ended", { reason });
    });
  }

  async #shutdown(reason: string): Promise<void> {
    this.#state = "ended";
    this.#endReason ??= reason;
    this.#central.off("notification", this.#onNotification);
    this.#central.off("close", this.#onCentralClosed);
    this.#resume.stop();
    try {
      await this.#peer.stop(reason);
    } catch (error) {
      this.#logger.warn({ err: error }, "stopping the peer engine failed");
      await this.#mesh.stop().catch(() => {});
    }
    this.#transfer.close();
  }

  // ---- the central server's notices ---------------------------------------------------

  readonly #onNotification = (notification: Notification): void => {
    if (this.#state === "opening") {
      this.#early.push(notification);
      return;
    }
    if (this.#state !== "open") return;
    const body = notification.body;
    switch (body.case) {
      case "editorJoined":
        if (body.value.album === this.album && body.value.editor) {
          this.#editorJoined(body.value.editor);
        }
        break;
      case "editorLeft":
        if (body.value.album === this.album) this.#editorLeft(body.value);
        break;
      case "sessionEnded":
        if (body.value.album === this.album) {
          this.#end(body.value.reason || "the central server ended the session");
        }
        break;
      case "ratingRecorded":
        if (body.value.album === this.album && body.value.tally) {
          const { fileId, raters, stars } = body.value.tally;
          this.#facts.ratingRecorded(fileId, { raters, stars: Number(stars) });
        }
        break;
      default:
        break;
    }
  };

  readonly #onCentralClosed = (): void => {
    this.#end("lost the connection to the central server");
  };

  #editorJoined(editor: SessionEditor): void {
    if (editor.slot === this.slot) return;
    this.#facts.slotExists(editor.slot);
    const peer: PeerAddress = {
      slot: editor.slot,
      user: editor.user,
      address: editor.address,
      publicKey: editor.publicKey,
    };
    const known = this.#editors.get(editor.slot);
    this.#editors.set(editor.slot, peer);
    try {
      this.#peer.addPeer(peer);
    } catch (error) {
      this.#logger.warn({ err: error, slot: editor.slot }, "cannot connect to a new editor");
    }
    if (!known || known.user !== editor.user || known.address !== editor.address) {
      this.emit("editorJoined", { slot: editor.slot, user: editor.user });
    }
  }

  /** Files as last announced; undefined until the initial sync is done (what a newcomer syncs is not news). */
  #announced: FileSnapshot | undefined;

  #announceFileChanges(from: number): void {
    const before = this.#announced;
    if (!before || this.#state !== "open" || this.listenerCount("filesChanged") === 0) return;
    const files = this.#replica.files();
    this.#announced = snapshotFiles(files);
    const changes = fileChanges(before, files);
    if (changes.length > 0)
      this.emit("filesChanged", { by: this.#editors.get(from)?.user, changes });
  }

  #editorLeft(left: EditorLeft): void {
    const reason = leaveKind(left.reason);
    if (left.slot === this.slot) {
      if (reason === "removed") this.#end(`${this.user} was removed from the album's members`);
      return;
    }
    const known = this.#editors.get(left.slot);
    this.#editors.delete(left.slot);
    // A removed member's key stops working at once, its open connections too.
    if (reason === "removed") void this.#peer.revokePeer(left.slot);
    else this.#peer.removePeer(left.slot);
    if (known) {
      this.emit("editorLeft", { slot: left.slot, user: left.user || known.user, reason });
    }
  }

  // ---- helpers -----------------------------------------------------------------------

  /** Runs a command: the session must be open; every failure becomes a clean AlbumError. */
  async #operation<T>(body: () => Promise<T>): Promise<T> {
    this.#requireOpen();
    try {
      return await body();
    } catch (error) {
      const failure = AlbumError.from(error);
      const message = redactContentKeys(failure.message);
      if (message === failure.message) throw failure;
      throw new AlbumError(failure.code, message);
    }
  }

  #requireOpen(): void {
    if (this.#state === "open") return;
    if (this.#state === "closing") {
      throw failedPrecondition(`the editing session of '${this.album}' is closing`);
    }
    throw this.#endedError();
  }

  #endedError(): AlbumError {
    return failedPrecondition(
      `the editing session of '${this.album}' has ended${this.#endReason ? ` (${this.#endReason})` : ""}`,
    );
  }

  /** The CRDT refuses a non-member's change too; checking first avoids a useless upload or rating. */
  #requireMember(): void {
    if (!this.#replica.members().includes(this.user)) {
      throw permissionDenied(`${this.user} is not a member of the album`);
    }
  }

  #spread(delta: Uint8Array): void {
    // Our own changes are not news to us.
    if (this.#announced) this.#announced = snapshotFiles(this.#replica.files());
    this.#peer.broadcastDelta(delta);
  }

  /** The file with this FileId, looked up by its likely display name first (no listing built). */
  #fileById(fileId: string, likelyName: string): AlbumFile | undefined {
    const byName = this.#replica.findFile(likelyName);
    if (byName?.fileId === fileId) return byName;
    return this.#replica.files().find((file) => file.fileId === fileId);
  }
}

function chatView(entry: ChatEntry): SessionChatMessage {
  return { from: entry.senderName, slot: entry.slot, text: entry.text, time: entry.sentAtUnixMs };
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

function leaveKind(reason: LeaveReason): LeaveKind {
  switch (reason) {
    case LeaveReason.LOST:
      return "lost";
    case LeaveReason.REMOVED:
      return "removed";
    default:
      return "left";
  }
}

/** A clear error for a local file that cannot be uploaded, before touching the network. */
async function checkLocalFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const failure = AlbumError.from(error);
    if (failure.code === ErrorCode.NotFound) throw notFound(`no such local file: ${path}`);
    if (failure.code === ErrorCode.PermissionDenied) {
      throw permissionDenied(`cannot read the local file ${path}`);
    }
    throw failure;
  }
  if (!info.isFile()) throw invalidArgument(`${path} is not a regular file`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Names the data path in the message, so "unavailable" says which part of the system is. */
function dataPathError(
  error: unknown,
  operation: "upload" | "download",
  displayName?: string,
): AlbumError {
  const failure = AlbumError.from(error, ErrorCode.Unavailable);
  const message = redactContentKeys(failure.message);
  if (failure.code === ErrorCode.Unavailable) {
    return new AlbumError(ErrorCode.Unavailable, `data server unreachable: ${message}`, {
      cause: failure,
    });
  }
  if (operation === "download" && failure.code === ErrorCode.NotFound) {
    return notFound(`the data servers do not hold the content of '${displayName ?? "the file"}'`);
  }
  return new AlbumError(failure.code, `${operation} failed: ${message}`, { cause: failure });
}
