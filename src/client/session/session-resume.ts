// Keeps an editing session alive across a lost connection to the central
// server (or a restart of it): while the client reconnects, the replica and
// the peer mesh keep running (editing and chat go on peer to peer); once the
// connection is back, the session reclaims its own slot with resumeAlbum,
// handing off every change and chat message the server has not acknowledged.
// It also keeps the chat this editor delivered until a hand-off carried it
// (the central server keeps the album's chat), and turns the chat history of
// earlier sessions from getAlbum into chat events. AlbumSession owns one.
// It never drops an unacknowledged change or message: only an acknowledged
// hand-off or resume removes them.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { Logger } from "../../common/logger.ts";
import { highestCounter } from "../../crdt/index.ts";
import type { ChatEntry } from "../../peer/chat-history.ts";
import type {
  KeptChatMessage,
  OpenedAlbum,
  ResumeAlbumClaim,
  ResumedAlbum,
  SessionEditorInfo,
} from "../central-client.ts";
import type { EditorReplica } from "./editor-replica.ts";
import type { SessionCentral } from "./session-central.ts";

/** What resuming needs beyond SessionCentral; CentralClient has it. */
export interface ResumableCentral {
  /** True while the connection is lost and being restored. */
  readonly isReconnecting: boolean;
  resumeAlbum(claim: ResumeAlbumClaim): Promise<ResumedAlbum>;
  on(event: "reconnecting" | "restored", listener: () => void): unknown;
  off(event: "reconnecting" | "restored", listener: () => void): unknown;
}

/** Delivered messages kept for the next hand-off at most (the server keeps no more per album). */
export const MAX_UNHANDED_CHAT = 1000;

export interface SessionResumeOptions {
  central: SessionCentral;
  opened: OpenedAlbum;
  replica: EditorReplica;
  /** Our peer endpoint ("host:port"), told to the server again on resume. */
  address: () => string;
  logger: Logger;
  /** Resumed: the editors the server lists now (peers to (re)connect to). */
  resumed: (editors: SessionEditorInfo[]) => void;
  /** The session cannot go on (slot given up, replica stale, no resume possible). */
  end: (reason: string) => void;
}

export interface ChatHandOff {
  readonly messages: KeptChatMessage[];
  readonly receipt: number;
}

export class SessionResume {
  readonly #options: SessionResumeOptions;
  readonly #epoch: number;
  /** The central connection, when it can resume (an in-memory test double may not). */
  readonly #central: ResumableCentral | undefined;
  /** Delivered chat no acknowledged hand-off carried yet, in delivery order. */
  #unhanded: { n: number; message: KeptChatMessage }[] = [];
  #nextN = 1;
  #stopped = false;
  #resuming = false;

  constructor(options: SessionResumeOptions) {
    this.#options = options;
    this.#epoch = options.replica.epoch;
    this.#central = resumable(options.central);
    this.#central?.on("reconnecting", this.#onReconnecting);
    this.#central?.on("restored", this.#onRestored);
  }

  /** Chat of earlier sessions kept by the server, oldest first, as the session's chat events show it. */
  static history(opened: OpenedAlbum): KeptChatMessage[] {
    return opened.chatHistory ?? [];
  }

  /** A chat message we delivered: kept until a hand-off carries it. */
  recordChat(entry: ChatEntry): void {
    this.#unhanded.push({
      n: this.#nextN++,
      message: {
        epoch: this.#epoch,
        slot: entry.slot,
        seq: entry.seq,
        sender: entry.senderName,
        text: entry.text,
        sentAtUnixMs: entry.sentAtUnixMs,
      },
    });
    // Past the server's bound the oldest would be pruned there anyway.
    if (this.#unhanded.length > MAX_UNHANDED_CHAT) this.#unhanded.shift();
  }

  /** The chat to hand off with the next hand-off, and its receipt. */
  chatForHandOff(): ChatHandOff {
    return {
      messages: this.#unhanded.map((entry) => entry.message),
      receipt: this.#nextN - 1,
    };
  }

  acknowledgeChat(receipt: number): void {
    this.#unhanded = this.#unhanded.filter((entry) => entry.n > receipt);
  }

  /**
   * Refuses a hand-back (putAlbum) while the central server is unreachable:
   * closing then would drop the changes only the server could keep. The
   * session stays open; the person tries again once it is back.
   */
  checkCanHandBack(album: string): void {
    if (!this.#central?.isReconnecting) return;
    throw new AlbumError(
      ErrorCode.Unavailable,
      `the central server is unreachable, so '${album}' cannot be handed back yet; it stays open (editing and chat go on with the others), try again once reconnected`,
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#central?.off("reconnecting", this.#onReconnecting);
    this.#central?.off("restored", this.#onRestored);
  }

  readonly #onReconnecting = (): void => {
    if (this.#stopped) return;
    if (this.#options.opened.resumeKey.byteLength === 0) {
      // A server without resumable sessions: nothing to come back to.
      this.#options.end("lost the connection to the central server");
      return;
    }
    this.#options.logger.info("central server unreachable; editing goes on peer to peer");
  };

  readonly #onRestored = (): void => {
    if (this.#stopped || this.#resuming || this.#options.opened.resumeKey.byteLength === 0) return;
    this.#resuming = true;
    void this.#resume().finally(() => {
      this.#resuming = false;
    });
  };

  async #resume(): Promise<void> {
    const { opened, replica } = this.#options;
    const central = this.#central;
    if (!central) return;
    const handOff = replica.prepareHandOff();
    const chat = this.chatForHandOff();
    let result: ResumedAlbum;
    try {
      // Sent before anything else queued on the connection (see CentralClient).
      result = await central.resumeAlbum({
        album: opened.album,
        epoch: this.#epoch,
        slot: opened.slot,
        resumeKey: opened.resumeKey,
        counter: highestCounter(replica.state, opened.slot),
        delta: handOff.delta,
        chat: chat.messages,
        address: this.#options.address(),
      });
    } catch (error) {
      const failure = AlbumError.from(error, ErrorCode.Unavailable);
      if (this.#stopped) return;
      // Lost again: the next 'restored' tries again; anything else is final.
      if (failure.code === ErrorCode.Unavailable) return;
      this.#options.end(`could not resume the session: ${failure.message}`);
      return;
    }
    replica.acknowledgeHandOff(handOff.receipt);
    this.acknowledgeChat(chat.receipt);
    if (this.#stopped) return;
    if (result.outcome === "resumed") {
      this.#options.logger.info("editing session resumed");
      this.#options.resumed(result.editors);
    } else {
      this.#options.end(result.reason);
    }
  }
}

function resumable(central: SessionCentral): ResumableCentral | undefined {
  const candidate = central as unknown as Partial<ResumableCentral>;
  return typeof candidate.resumeAlbum === "function" ? (candidate as ResumableCentral) : undefined;
}
