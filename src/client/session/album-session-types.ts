// The public vocabulary of AlbumSession (album-session.ts): its options, the
// events it emits and what its commands return. Declarations only;
// album-session.ts re-exports them, so callers import from there.
import type { Logger } from "../../common/logger.ts";
import type { SessionPeerOptions } from "../../peer/session-peer.ts";
import type { FileMediaMaker } from "../renditions/file-media-maker.ts";
import type { FileChange } from "./file-changes.ts";
import type { ContentTransfer } from "./content-transfer.ts";
import type { SessionCentral } from "./session-central.ts";
import type { EditorLeftView, SessionChatMessage, SessionEditorView } from "./session-actions.ts";

export type {
  EditorLeftView,
  LeaveKind,
  SessionChatMessage,
  SessionEditorView,
} from "./session-actions.ts";

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
