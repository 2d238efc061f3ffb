// The album-session engine of one editor, as a pure state machine
// (sans-I/O): it takes events — the central server's notices (an editor
// joined or left, a rating recorded, the session ended), the person's local
// changes and delivered chat, the hand-off timer, the replies (or failures) of
// hand-offs, resumes and the final hand-back, the central connection lost,
// restored or closed — and returns actions for an executor to carry out:
// spread a delta to the peers, add or drop a peer, call the central server
// (handOff, resumeAlbum, putAlbum), tell the person, schedule the timer, end
// the session. It owns the editor's replica, what the server vouched for,
// the chat awaiting a hand-off and the hand-off schedule; it decides when a
// hand-off runs, what it carries, when a resume is due and what it claims
// (docs/crdt.md, rules 5–6), and when the session is over.
// The executors are AlbumSession (the central connection, the peer engine
// over ZeroMQ, real timers) and the simulation (test/peer/fixtures).
// It never touches a socket, a timer, a promise or a clock, and never drops a
// change or chat message no acknowledged hand-off, resume or hand-back carried.
import { AlbumError, ErrorCode, failedPrecondition } from "../../common/album-error.ts";
import type { Notification } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { ChatEntry, PeerAddress } from "../../peer/index.ts";
import type { OpenedAlbum, ResumedAlbum } from "../central-client.ts";
import { ChatHandOffs } from "./chat-hand-offs.ts";
import { EditorReplica } from "./editor-replica.ts";
import { HandOffs } from "./hand-offs.ts";
import { ResumeClaims } from "./resume-claims.ts";
import type {
  SessionAction,
  SessionChatMessage,
  SessionEditorView,
  SessionTimer,
} from "./session-actions.ts";
import { SessionRoster } from "./session-roster.ts";
import { VouchedFacts } from "./vouched-facts.ts";

export type SessionState = "opening" | "open" | "closing" | "ended";

export interface AlbumSessionCoreOptions {
  opened: OpenedAlbum;
  /** The logged-in user: the author of our changes. */
  user: string;
  /** Period of the automatic hand-offs, in ms. */
  handOffIntervalMs: number;
  /** False when the central connection cannot resume (a lost connection then ends the session). */
  canResume: boolean;
  /** Called after every change of the replica, local or remote (the web app's live view). */
  onChange?: () => void;
}

export class AlbumSessionCore {
  readonly album: string;
  readonly user: string;
  readonly slot: number;
  readonly replica: EditorReplica;
  /** Slots and rating tallies the central server vouched for: remote deltas are checked against them. */
  readonly facts: VouchedFacts;
  readonly #opened: OpenedAlbum;
  readonly #intervalMs: number;
  readonly #canResume: boolean;
  /** The other editors, as the central server told us of them. */
  readonly #roster: SessionRoster;
  readonly #handOffs: HandOffs;
  /** Notices that arrived before the session was open. */
  readonly #early: Notification[] = [];
  #state: SessionState = "opening";
  #endReason: string | undefined;
  /** False from a lost connection until the resume is answered: no hand-off can run meanwhile. */
  #linkUp = true;
  readonly #resumes: ResumeClaims;
  /** close() was asked while a hand-off ran: hand back once it is over. */
  #handBackWhenIdle = false;
  /** The highest chat number of our slot: told to the server when we leave, for our successor. */
  #chatSeq: number;
  /** Our peer endpoint ("host:port"), told to the server again on resume. */
  #address = "";
  #out: SessionAction[] = [];

  constructor(options: AlbumSessionCoreOptions) {
    const { opened } = options;
    this.album = opened.album;
    this.user = options.user;
    this.slot = opened.slot;
    this.#opened = opened;
    this.#chatSeq = opened.chatSeq;
    this.#intervalMs = Math.max(1, options.handOffIntervalMs);
    this.#canResume = options.canResume && opened.resumeKey.byteLength > 0;
    this.facts = new VouchedFacts(Math.max(opened.highestSlot, opened.slot), opened.ratingTallies);
    this.replica = new EditorReplica(
      opened.replica,
      { slot: opened.slot, user: options.user },
      this.facts,
      options.onChange,
    );
    this.#handOffs = new HandOffs(
      this.replica,
      new ChatHandOffs(this.replica.epoch),
      () => this.#linkUp,
    );
    this.#resumes = new ResumeClaims(
      { album: opened.album, slot: opened.slot, resumeKey: opened.resumeKey },
      this.replica,
      this.#handOffs,
    );
    this.#roster = new SessionRoster(
      { album: opened.album, slot: opened.slot, user: options.user },
      this.facts,
      opened.editors,
    );
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Why the session ended, once it has. */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  /** False while the central connection is lost or the resume is unanswered. */
  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** Something (a change or a delivered chat message) awaits a hand-off. */
  get hasUnhanded(): boolean {
    return this.#handOffs.pending;
  }

  /** The other editors, as the peer engine must know them. */
  peers(): PeerAddress[] {
    return this.#roster.peers();
  }

  peer(slot: number): PeerAddress | undefined {
    return this.#roster.peer(slot);
  }

  /** The other editors of the session, by slot. */
  editors(): SessionEditorView[] {
    return this.#roster.editors();
  }

  /** Chat of the album's earlier sessions kept by the server, oldest first. */
  history(): SessionChatMessage[] {
    return (this.#opened.chatHistory ?? []).map((kept) => ({
      from: kept.sender,
      slot: kept.slot,
      text: kept.text,
      time: kept.sentAtUnixMs,
    }));
  }

  /** Commands run only in an open session; the error says why not. */
  requireOpen(): void {
    if (this.#state === "open") return;
    if (this.#state === "closing") {
      throw failedPrecondition(`the editing session of '${this.album}' is closing`);
    }
    throw this.endedError();
  }

  endedError(): AlbumError {
    return failedPrecondition(
      `the editing session of '${this.album}' has ended${this.#endReason ? ` (${this.#endReason})` : ""}`,
    );
  }

  // --- events: the session's life -----------------------------------------------------

  /** The peer endpoint is up at `address` and announced: the session is open; notices held back apply now. */
  started(address: string): SessionAction[] {
    this.#address = address;
    if (this.#state !== "opening") return this.#flush();
    this.#state = "open";
    for (const notice of this.#early.splice(0)) this.#notice(notice);
    if (this.#state === "open") this.#scheduleHandOff();
    return this.#flush();
  }

  /**
   * close(): hand the final replica back (putAlbum) once no hand-off is in
   * flight. Refused (the session stays open) while the central server is
   * unreachable: closing then would drop what only the server could keep.
   */
  close(): SessionAction[] {
    if (this.#state !== "open" && this.#state !== "opening") return this.#flush();
    if (!this.#linkUp) {
      throw new AlbumError(
        ErrorCode.Unavailable,
        `the central server is unreachable, so '${this.album}' cannot be handed back yet; it stays open (editing and chat go on with the others), try again once reconnected`,
      );
    }
    this.#state = "closing";
    if (this.#handOffs.idle) this.#handBack();
    else this.#handBackWhenIdle = true;
    return this.#flush();
  }

  /** Opening failed half-way: hand back what we got (the whole replica) so the slot is freed. */
  abandon(reason: string): SessionAction[] {
    if (this.#state === "ended" || this.#state === "closing") return this.#flush();
    this.#state = "closing";
    this.#endReason = reason;
    this.#out.push(...this.#handOffs.cancel());
    this.#out.push({
      kind: "put",
      replica: this.replica.encodedState(),
      chat: [],
      chatSeq: this.#chatSeq,
    });
    return this.#flush();
  }

  putDone(): SessionAction[] {
    this.#finish(undefined);
    return this.#flush();
  }

  putFailed(error: unknown): SessionAction[] {
    this.#finish(error);
    return this.#flush();
  }

  // --- events: the central server -----------------------------------------------------

  notice(notification: Notification): SessionAction[] {
    if (this.#state === "opening") this.#early.push(notification);
    else if (this.#state === "open") this.#notice(notification);
    return this.#flush();
  }

  /** The central connection dropped; the client reconnects by itself. */
  connectionLost(): SessionAction[] {
    if (this.#state === "ended" || this.#state === "closing") return this.#flush();
    this.#linkUp = false;
    if (!this.#canResume) {
      // A server without resumable sessions: nothing to come back to.
      this.#end("lost the connection to the central server");
    } else {
      this.#log("info", "central server unreachable; editing goes on peer to peer");
    }
    return this.#flush();
  }

  /** Logged in again: reclaim our slot, handing in what the server has not acknowledged. */
  connectionRestored(): SessionAction[] {
    if (this.#state === "ended" || this.#state === "closing" || !this.#canResume) {
      return this.#flush();
    }
    if (this.#resumes.inFlight) return this.#flush();
    this.#linkUp = false;
    this.#out.push(this.#resumes.claim(this.#address));
    return this.#flush();
  }

  resumeDone(id: number, result: ResumedAlbum): SessionAction[] {
    const receipts = this.#resumes.answered(id);
    if (!receipts) return this.#flush();
    if (result.outcome === "counterBehind") {
      this.#counterBehind(result.knownCounter);
      return this.#flush();
    }
    this.#handOffs.acknowledge(receipts);
    if (this.#state === "ended" || this.#state === "closing") return this.#flush();
    if (result.outcome === "resumed") {
      this.#linkUp = true;
      // Notices sent while we were away are not replayed: the reply says where things stand.
      this.facts.slotExists(result.highestSlot);
      for (const [fileId, tally] of result.ratingTallies) this.facts.ratingRecorded(fileId, tally);
      this.#log("info", "editing session resumed");
      this.#out.push(...this.#roster.reconcile(result.editors));
    } else {
      this.#end(result.reason);
    }
    return this.#flush();
  }

  resumeFailed(id: number, error: unknown): SessionAction[] {
    if (!this.#resumes.answered(id)) return this.#flush();
    if (this.#state === "ended" || this.#state === "closing") return this.#flush();
    const failure = AlbumError.from(error, ErrorCode.Unavailable);
    // Lost again: the next restored connection tries again; anything else is final.
    if (failure.code !== ErrorCode.Unavailable) {
      this.#end(`could not resume the session: ${failure.message}`);
    }
    return this.#flush();
  }

  /** The client gave up on the central server (closed, or its login could not be restored). */
  connectionClosed(): SessionAction[] {
    this.#end("lost the connection to the central server");
    return this.#flush();
  }

  // --- events: the person and the peers -----------------------------------------------

  /** A local change (its delta, from an operation on `replica`): spread it. */
  localChange(delta: Uint8Array): SessionAction[] {
    this.#out.push({ kind: "spread", delta });
    return this.#flush();
  }

  /** A local membership change: spread it and hand off at once; `waiter` hears handOffSettled. */
  membershipChange(delta: Uint8Array, waiter: number): SessionAction[] {
    this.#out.push({ kind: "spread", delta });
    if (this.#state !== "open" || !this.#linkUp)
      this.#out.push(...this.#handOffs.cancelOne(waiter));
    else this.#out.push(...this.#handOffs.request(waiter));
    return this.#flush();
  }

  /** The peer engine delivered a chat message (ours too): kept for a hand-off, shown. */
  chatDelivered(entry: ChatEntry): SessionAction[] {
    this.#handOffs.recordChat(entry);
    if (entry.slot === this.slot) this.#chatSeq = Math.max(this.#chatSeq, entry.seq);
    this.#tell({ event: "chat", message: chatView(entry) });
    return this.#flush();
  }

  // --- events: timers and hand-off replies ---------------------------------------------

  tick(timer: SessionTimer): SessionAction[] {
    if (timer !== "handOff" || this.#state !== "open") return this.#flush();
    // While the link is down the resume will carry everything: nothing to try.
    this.#out.push(...this.#handOffs.periodic());
    this.#scheduleHandOff();
    return this.#flush();
  }

  handOffDone(id: number): SessionAction[] {
    this.#out.push(...this.#handOffs.done(id));
    this.#afterHandOff();
    return this.#flush();
  }

  handOffFailed(id: number, error: unknown): SessionAction[] {
    this.#out.push(...this.#handOffs.failed(id, error));
    this.#afterHandOff();
    return this.#flush();
  }

  // --- inside -------------------------------------------------------------------------

  /** Our claim was refused as behind the server's copy: claim again, or end (ResumeClaims.behind). */
  #counterBehind(known: number): void {
    if (this.#state === "ended" || this.#state === "closing") return;
    const next = this.#resumes.behind(known, this.#address);
    if ("end" in next) return this.#end(next.end);
    this.#log("info", `resume raced our own changes (server at counter ${known}); resuming again`);
    this.#out.push(next.again);
  }

  #afterHandOff(): void {
    if (this.#handBackWhenIdle && this.#handOffs.idle) this.#handBack();
  }

  #handBack(): void {
    this.#handBackWhenIdle = false;
    // What the server lacks (it holds everything it acknowledged): the size
    // of the recent edits, not of the album.
    const { delta, chat } = this.#handOffs.prepareAll();
    this.#out.push({ kind: "put", replica: delta, chat, chatSeq: this.#chatSeq });
  }

  #finish(failure: unknown): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    this.#endReason ??= "closed";
    this.#out.push(...this.#handOffs.cancel());
    this.#out.push({
      kind: "end",
      reason: this.#endReason,
      tellPerson: false,
      ...(failure !== undefined ? { failure } : {}),
    });
  }

  /** The session ended without close(): stop everything and say why. */
  #end(reason: string): void {
    if (this.#state === "ended" || this.#state === "closing") return;
    const wasOpen = this.#state === "open";
    this.#state = "ended";
    this.#endReason = reason;
    this.#out.push(...this.#handOffs.cancel());
    this.#out.push({ kind: "end", reason, tellPerson: wasOpen });
  }

  #notice(notification: Notification): void {
    const { actions, end } = this.#roster.notice(notification);
    this.#out.push(...actions);
    if (end !== undefined) this.#end(end);
  }

  #scheduleHandOff(): void {
    this.#out.push({ kind: "schedule", timer: "handOff", delayMs: this.#intervalMs });
  }

  #tell(what: Extract<SessionAction, { kind: "tell" }>["what"]): void {
    this.#out.push({ kind: "tell", what });
  }

  #log(level: "info" | "warn", message: string, err?: unknown): void {
    this.#out.push({ kind: "log", level, message, ...(err !== undefined ? { err } : {}) });
  }

  #flush(): SessionAction[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

/** A delivered chat message as the person sees it. */
export function chatView(entry: ChatEntry): SessionChatMessage {
  return { from: entry.senderName, slot: entry.slot, text: entry.text, time: entry.sentAtUnixMs };
}
