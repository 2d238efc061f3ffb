// The executor of the album-session core (album-session-core.ts) in a real
// process: it feeds the core what the central connection says (notices, the
// connection lost, restored or closed, the replies of hand-offs, resumes and
// the hand-back), what the peer engine delivers (chat) and what the timer
// says, and carries out the actions the core returns — deltas to the peer
// engine (SessionPeer over ZeroMQ), calls to the central server, events to
// the person (on the AlbumSession it serves), the hand-off timer, the end of
// the session. It also starts the peer side when the session opens and stops
// it, and the data path, when the session ends. AlbumSession owns one.
// It decides nothing: every rule is the core's. An action that fails is
// logged, never thrown into the core; a timer never keeps the process alive.
import type { EventEmitter } from "node:events";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { Logger } from "../../common/logger.ts";
import type { Notification } from "../../gen/albumshare/central/v1/central_pb.ts";
import { PeerMesh } from "../../peer/peer-mesh.ts";
import type { SessionKeys } from "../../peer/peer-keys.ts";
import { SessionPeer, type SyncOutcome } from "../../peer/session-peer.ts";
import type { OpenedAlbum } from "../central-client.ts";
import { AlbumSessionCore } from "./album-session-core.ts";
import type {
  AlbumSessionEvents,
  AlbumSessionOptions,
  PeerEndpointOptions,
} from "./album-session-types.ts";
import type { ContentTransfer } from "./content-transfer.ts";
import { fileChanges, snapshotFiles, type FileSnapshot } from "./file-changes.ts";
import type { SessionAction } from "./session-actions.ts";
import { resumableCentral, type ResumableCentral, type SessionCentral } from "./session-central.ts";

const DEFAULT_HAND_OFF_INTERVAL_MS = 2000;

export class SessionExecutor {
  readonly core: AlbumSessionCore;
  readonly mesh: PeerMesh;
  readonly peer: SessionPeer;
  readonly #album: string;
  readonly #central: SessionCentral;
  readonly #resumable: ResumableCentral | undefined;
  readonly #events: EventEmitter<AlbumSessionEvents>;
  readonly #transfer: ContentTransfer;
  readonly #logger: Logger;
  /** Membership commands waiting for their immediate hand-off, by waiter number. */
  readonly #waiters = new Map<number, (ok: boolean) => void>();
  #nextWaiter = 1;
  #timer: NodeJS.Timeout | undefined;
  /** Resolves once the session is stopped, with the hand-back's failure if any. */
  readonly stopped: Promise<unknown>;
  #markStopped!: (failure: unknown) => void;
  /** Files as last announced; undefined until the initial sync is done (what a newcomer syncs is not news). */
  #announced: FileSnapshot | undefined;

  constructor(
    options: AlbumSessionOptions,
    opened: OpenedAlbum,
    keys: SessionKeys,
    parts: { events: EventEmitter<AlbumSessionEvents>; transfer: ContentTransfer; logger: Logger },
  ) {
    this.#album = opened.album;
    this.#central = options.central;
    this.#resumable = resumableCentral(options.central);
    this.#events = parts.events;
    this.#transfer = parts.transfer;
    this.#logger = parts.logger;
    this.stopped = new Promise((done) => (this.#markStopped = done));
    this.core = new AlbumSessionCore({
      opened,
      user: options.user,
      handOffIntervalMs:
        options.handOffIntervalMs ?? (opened.handOffIntervalMs || DEFAULT_HAND_OFF_INTERVAL_MS),
      canResume: this.#resumable !== undefined,
      onChange: () => this.#events.emit("changed"),
    });
    this.mesh = new PeerMesh({
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
    this.peer = new SessionPeer({
      mesh: this.mesh,
      user: options.user,
      sessionToken: opened.sessionToken,
      replica: this.core.replica,
      initialPeers: this.core.peers(),
      pastEditors: opened.pastEditors,
      predecessorChatSeq: opened.chatSeq,
      logger: this.#logger,
      ...options.peerTuning,
    });
    this.peer.on("chat", (entry) => this.run(this.core.chatDelivered(entry)));
    this.peer.on("remoteDelta", (from) => this.#announceFileChanges(from));
    this.#central.on("notification", this.#onNotification);
    this.#central.on("close", this.#onCentralClosed);
    this.#resumable?.on("reconnecting", this.#onReconnecting);
    this.#resumable?.on("restored", this.#onRestored);
  }

  /**
   * Binds the peer endpoint, admits the editors there, announces us, starts
   * the peer engine and opens the core; resolves once the initial sync from
   * the peers is over. Throws when the session ended meanwhile.
   */
  async start(endpoint: PeerEndpointOptions): Promise<SyncOutcome> {
    try {
      await this.mesh.start();
    } catch (error) {
      const failure = AlbumError.from(error, ErrorCode.Unavailable);
      throw new AlbumError(
        failure.code,
        `cannot bind the peer endpoint on ${endpoint.bindHost}:${endpoint.bindPort}: ${failure.message}`,
        { cause: failure },
      );
    }
    // Admit the editors already there, then announce: they admit our key
    // before we dial them and we theirs before they dial us (a handshake
    // refused for want of a notice is retried, but costs a round).
    for (const editor of this.core.peers()) this.mesh.admit(editor);
    await this.#central.announceEditor(this.#album, this.mesh.address);
    await this.peer.start();
    this.run(this.core.started(this.mesh.address));
    if (this.core.state !== "open") throw this.core.endedError();
    const outcome = await this.peer.whenSynced();
    // What the initial sync brought is the state we start from, not news.
    this.#announced = snapshotFiles(this.core.replica.files());
    if (this.core.state !== "open") throw this.core.endedError();
    return outcome;
  }

  /** Open failed half-way: hand back what we got so the slot is freed, and stop. */
  async abandon(): Promise<void> {
    if (this.core.state === "ended") return;
    this.run(this.core.abandon("open failed"));
    await this.stopped;
  }

  /** A membership change: spread, hand off at once; resolves whether the hand-off went through. */
  membershipChange(delta: Uint8Array): Promise<boolean> {
    const waiter = this.#nextWaiter++;
    const settled = new Promise<boolean>((done) => this.#waiters.set(waiter, done));
    this.run(this.core.membershipChange(delta, waiter));
    return settled;
  }

  /** Carries out the core's actions, in order; what fails is logged, never thrown into the core. */
  run(actions: readonly SessionAction[]): void {
    for (const action of actions) {
      try {
        this.#perform(action);
      } catch (error) {
        this.#logger.warn({ err: error, action: action.kind }, "session action failed");
      }
    }
  }

  readonly #onNotification = (notification: Notification): void =>
    this.run(this.core.notice(notification));
  readonly #onCentralClosed = (): void => this.run(this.core.connectionClosed());
  readonly #onReconnecting = (): void => this.run(this.core.connectionLost());
  readonly #onRestored = (): void => this.run(this.core.connectionRestored());

  #perform(action: SessionAction): void {
    const core = this.core;
    switch (action.kind) {
      case "spread":
        // Our own changes are not news to us.
        if (this.#announced) this.#announced = snapshotFiles(core.replica.files());
        this.peer.broadcastDelta(action.delta);
        return;
      case "addPeer":
        this.peer.addPeer(action.peer);
        return;
      case "removePeer":
        if (action.revoke) void this.peer.revokePeer(action.slot);
        else this.peer.removePeer(action.slot);
        return;
      case "handOff":
        this.#central.handOff(this.#album, action.delta, action.chat).then(
          () => this.run(core.handOffDone(action.id)),
          (error: unknown) => this.run(core.handOffFailed(action.id, error)),
        );
        return;
      case "resume":
        // Sent before anything else queued on the connection (see CentralClient).
        this.#resumable?.resumeAlbum(action.claim).then(
          (result) => this.run(core.resumeDone(action.id, result)),
          (error: unknown) => this.run(core.resumeFailed(action.id, error)),
        );
        return;
      case "put":
        (this.#central.isClosed
          ? Promise.reject(
              new AlbumError(ErrorCode.Unavailable, "the central connection is closed"),
            )
          : this.#central.putAlbum(this.#album, action.replica, action.chat, action.chatSeq)
        ).then(
          () => this.run(core.putDone()),
          (error: unknown) => this.run(core.putFailed(error)),
        );
        return;
      case "handOffSettled":
        this.#waiters.get(action.waiter)?.(action.ok);
        this.#waiters.delete(action.waiter);
        return;
      case "tell":
        if (action.what.event === "chat") this.#events.emit("chat", action.what.message);
        else if (action.what.event === "editorJoined") {
          this.#events.emit("editorJoined", action.what.editor);
        } else this.#events.emit("editorLeft", action.what.left);
        return;
      case "schedule":
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.run(core.tick(action.timer));
        }, action.delayMs);
        // The session's sockets keep the process alive while it edits; this timer must not.
        this.#timer.unref();
        return;
      case "end":
        void this.#shutdown().then(() => {
          if (action.tellPerson) this.#events.emit("ended", { reason: action.reason });
          this.#markStopped(action.failure);
        });
        return;
      case "log":
        this.#logger[action.level]({ err: action.err }, action.message);
        return;
    }
  }

  async #shutdown(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#central.off("notification", this.#onNotification);
    this.#central.off("close", this.#onCentralClosed);
    this.#resumable?.off("reconnecting", this.#onReconnecting);
    this.#resumable?.off("restored", this.#onRestored);
    try {
      await this.peer.stop(this.core.endReason ?? "closed");
    } catch (error) {
      this.#logger.warn({ err: error }, "stopping the peer engine failed");
      await this.mesh.stop().catch(() => {});
    }
    this.#transfer.close();
  }

  #announceFileChanges(from: number): void {
    const before = this.#announced;
    if (!before || this.core.state !== "open" || this.#events.listenerCount("filesChanged") === 0) {
      return;
    }
    const files = this.core.replica.files();
    this.#announced = snapshotFiles(files);
    const changes = fileChanges(before, files);
    if (changes.length > 0) {
      this.#events.emit("filesChanged", { by: this.core.peer(from)?.user, changes });
    }
  }
}
