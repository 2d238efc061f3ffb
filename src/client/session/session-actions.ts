// The vocabulary of the album-session core (album-session-core.ts): the
// actions it returns for an executor to carry out, its timer, and the views
// of editors and chat it hands to the person. Declarations only.
import type { PeerAddress } from "../../peer/index.ts";
import type { KeptChatMessage, ResumeAlbumClaim } from "../central-client.ts";

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

/** The core's only timer: the periodic hand-off. */
export type SessionTimer = "handOff";

/** What the person is told (the executor emits it as an event of the same name). */
export type PersonEvent =
  | { event: "chat"; message: SessionChatMessage }
  | { event: "editorJoined"; editor: SessionEditorView }
  | { event: "editorLeft"; left: EditorLeftView };

export type SessionAction =
  /** Send a local change to every peer (the peer engine's localDelta). */
  | { kind: "spread"; delta: Uint8Array }
  /** Connect to (or re-address) an editor the central server vouched for. */
  | { kind: "addPeer"; peer: PeerAddress }
  /** Drop an editor; `revoke`: a removed member, whose connections to us are cut too. */
  | { kind: "removePeer"; slot: number; revoke: boolean }
  /** Call handOff; answer with handOffDone(id) or handOffFailed(id, error). */
  | { kind: "handOff"; id: number; delta: Uint8Array; chat: KeptChatMessage[] }
  /** Call resumeAlbum; answer with resumeDone(id, result) or resumeFailed(id, error). */
  | { kind: "resume"; id: number; claim: ResumeAlbumClaim }
  /** Call putAlbum (the session is closing); answer with putDone() or putFailed(error). */
  /** `chatSeq`: the highest chat number of our slot, for the slot's next holder. */
  | { kind: "put"; replica: Uint8Array; chat: KeptChatMessage[]; chatSeq: number }
  /** A requested hand-off (handOffNow) is over: `ok` false when it failed or could not run. */
  | { kind: "handOffSettled"; waiter: number; ok: boolean }
  | { kind: "tell"; what: PersonEvent }
  | { kind: "schedule"; timer: SessionTimer; delayMs: number }
  /**
   * The session is over: cancel the timers, stop the peer engine and the data
   * path. `reason` says why; `tellPerson`: emit "ended" once stopped (the
   * session had been open); `failure`: the final hand-back failed (close()).
   */
  | { kind: "end"; reason: string; tellPerson: boolean; failure?: unknown }
  | { kind: "log"; level: "info" | "warn"; message: string; err?: unknown; slot?: number };
