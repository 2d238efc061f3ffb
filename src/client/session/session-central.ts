// What an editing session needs from the central-server connection: the
// session requests, the pushed notifications, the connection's end, and the
// data-server ring (the connection is the data path's RingSource).
// CentralClient is the real implementation; tests may pass an in-memory one.
// Declarations (and a type test) only: nothing here does I/O.
import type { Notification } from "../../gen/albumshare/central/v1/central_pb.ts";
import type {
  KeptChatMessage,
  OpenedAlbum,
  ResumeAlbumClaim,
  ResumedAlbum,
} from "../central-client.ts";
import type { RingSource } from "../data-transfer/ring-source.ts";

export interface SessionCentral extends RingSource {
  /** True once the connection is gone (requests then fail with Unavailable). */
  readonly isClosed: boolean;
  getAlbum(album: string, peerPublicKey: Uint8Array): Promise<OpenedAlbum>;
  announceEditor(album: string, address: string): Promise<void>;
  /** `chat`: delivered chat messages for the server to keep (see session-resume.ts). */
  handOff(album: string, delta: Uint8Array, chat?: readonly KeptChatMessage[]): Promise<void>;
  /** `chatSeq`: the highest chat number of our slot (its next holder numbers above it). */
  putAlbum(
    album: string,
    replica: Uint8Array,
    chat?: readonly KeptChatMessage[],
    chatSeq?: number,
  ): Promise<void>;
  /** Rejects with AlreadyExists when the user rated the file before. */
  recordRating(album: string, fileId: string, stars: number): Promise<void>;
  userExists(name: string): Promise<boolean>;
  on(event: "notification", listener: (notification: Notification) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  off(event: "notification", listener: (notification: Notification) => void): unknown;
  off(event: "close", listener: () => void): unknown;
}

/** What resuming needs beyond SessionCentral; CentralClient has it (an in-memory double may not). */
export interface ResumableCentral {
  /** True while the connection is lost and being restored. */
  readonly isReconnecting: boolean;
  resumeAlbum(claim: ResumeAlbumClaim): Promise<ResumedAlbum>;
  on(event: "reconnecting" | "restored", listener: () => void): unknown;
  off(event: "reconnecting" | "restored", listener: () => void): unknown;
}

/** The connection as a ResumableCentral, when it is one. */
export function resumableCentral(central: SessionCentral): ResumableCentral | undefined {
  const candidate = central as unknown as Partial<ResumableCentral>;
  return typeof candidate.resumeAlbum === "function" ? (candidate as ResumableCentral) : undefined;
}
