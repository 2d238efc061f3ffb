// The editing-session replies of the central server as the client library
// hands them on (getAlbum, resumeAlbum), and kept chat both ways: plain
// shapes, numbers instead of 64-bit integers where they fit, maps instead of
// lists. Pure conversions; they decide nothing and never drop a field a
// caller reads. The session simulation converts the real server's replies
// through the same functions.
import { keptChatFromWire as chatFromWire, type KeptChatMessage } from "../common/kept-chat.ts";
import {
  ResumeOutcome,
  type GetAlbumReply,
  type RatingTally,
  type ResumeAlbumReply,
  type SessionEditor,
} from "../gen/albumshare/central/v1/central_pb.ts";

export type { KeptChatMessage } from "../common/kept-chat.ts";

/** An editor of an open session, as the central server knows it. */
export interface SessionEditorInfo {
  slot: number;
  user: string;
  /** "host:port" of its peer endpoint. */
  address: string;
  /** Its CURVE public key for this session, vouched for by the server. */
  publicKey: Uint8Array;
}

/** What getAlbum hands an editor. */
export interface OpenedAlbum {
  album: string;
  slot: number;
  sessionId: bigint;
  /** The server's replica, an encoded CRDT state. */
  replica: Uint8Array;
  ratedFileIds: string[];
  editors: SessionEditorInfo[];
  handOffIntervalMs: number;
  /** 128 random bits naming the session (the peers' ZAP domain). */
  sessionToken: Uint8Array;
  /** The server's rate-once records: raters and stars per rated file. */
  ratingTallies: Map<string, { raters: number; stars: number }>;
  /** The highest slot handed out in the session so far. */
  highestSlot: number;
  /** Who held slots of this session before and left. */
  pastEditors: { slot: number; user: string }[];
  /** Lets this editor reclaim its slot with resumeAlbum (empty from an old server). */
  resumeKey: Uint8Array;
  /** Chat of the album's earlier sessions, oldest first. */
  chatHistory: KeptChatMessage[];
  resumeGraceMs: number;
  /** The highest chat number our slot's earlier holders used in this session. */
  chatSeq: number;
}

export interface ResumeAlbumClaim {
  album: string;
  epoch: number;
  slot: number;
  resumeKey: Uint8Array;
  /** The highest counter of our slot in our replica. */
  counter: number;
  /** What the server may lack (encoded delta). */
  delta: Uint8Array;
  chat: readonly KeptChatMessage[];
  address: string;
}

export interface ResumedAlbum {
  /**
   * "resumed": we hold our slot again; "handedOff": our changes were merged,
   * but the slot is gone; "counterBehind": refused, nothing merged, the
   * server's copy holds `knownCounter` of our slot, above the counter we stated.
   */
  outcome: "resumed" | "handedOff" | "counterBehind";
  editors: SessionEditorInfo[];
  reason: string;
  /** The rate-once tallies now (an editor that was away missed the notices). */
  ratingTallies: Map<string, { raters: number; stars: number }>;
  /** The highest slot handed out in the session so far. */
  highestSlot: number;
  /** The server's highest counter of our slot ("counterBehind"; 0 otherwise). */
  knownCounter: number;
}

export function openedAlbumFromWire(reply: GetAlbumReply): OpenedAlbum {
  return {
    album: reply.album,
    slot: reply.slot,
    sessionId: reply.sessionId,
    replica: reply.replica,
    ratedFileIds: [...reply.ratedFileIds],
    editors: reply.editors.map(editorFromWire),
    handOffIntervalMs: reply.handOffIntervalMs,
    sessionToken: reply.sessionToken,
    ratingTallies: talliesFromWire(reply.ratingTallies),
    highestSlot: reply.highestSlot,
    pastEditors: reply.pastEditors.map(({ slot, user }) => ({ slot, user })),
    resumeKey: reply.resumeKey,
    chatHistory: reply.chatHistory.map(chatFromWire),
    resumeGraceMs: reply.resumeGraceMs,
    chatSeq: reply.chatSeq,
  };
}

export function resumedAlbumFromWire(reply: ResumeAlbumReply): ResumedAlbum {
  return {
    outcome: resumeOutcome(reply.outcome),
    editors: reply.editors.map(editorFromWire),
    reason: reply.reason,
    ratingTallies: talliesFromWire(reply.ratingTallies),
    highestSlot: reply.highestSlot,
    knownCounter: Number(reply.knownCounter),
  };
}

export {
  keptChatFromWire as chatFromWire,
  keptChatToWire as chatToWire,
} from "../common/kept-chat.ts";

function editorFromWire({ slot, user, address, publicKey }: SessionEditor): SessionEditorInfo {
  return { slot, user, address, publicKey };
}

function talliesFromWire(
  tallies: readonly RatingTally[],
): Map<string, { raters: number; stars: number }> {
  return new Map(tallies.map((t) => [t.fileId, { raters: t.raters, stars: Number(t.stars) }]));
}

function resumeOutcome(outcome: ResumeOutcome): ResumedAlbum["outcome"] {
  if (outcome === ResumeOutcome.RESUMED) return "resumed";
  if (outcome === ResumeOutcome.COUNTER_BEHIND) return "counterBehind";
  // HANDED_OFF, or an outcome this client does not know: the slot is not ours.
  return "handedOff";
}
