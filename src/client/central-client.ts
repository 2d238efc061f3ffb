// The client core's connection to the central server, as a library: typed
// requests that resolve with the reply or reject with an AlbumError carrying
// the server's code, pushed notifications as events, and the data-server ring
// as a RingSource. It reconnects by itself after a lost connection (backoff in
// reconnect-policy.ts), logs in again with the session token the server issued
// at login (the password is never kept), and tells its owner once that it is
// reconnecting and once that it is back ('reconnecting', 'restored'); commands
// issued meanwhile wait a bounded time, then fail with Unavailable. 'close'
// means it gave up (close(), or the token was refused). It never prints.
import { create } from "@bufbuild/protobuf";
import { EventEmitter } from "node:events";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  AnnounceEditorRequestSchema,
  GetAlbumRequestSchema,
  HandOffRequestSchema,
  LoginRequestSchema,
  PutAlbumRequestSchema,
  RecordRatingRequestSchema,
  ResumeAlbumRequestSchema,
  type Notification,
  type ServerFrame,
} from "../gen/albumshare/central/v1/central_pb.ts";
import type { RingState } from "../gen/albumshare/ring/v1/ring_pb.ts";
import { Ring } from "../ring/ring.ts";
import type { RequestBody } from "./central-link.ts";
import {
  chatToWire,
  openedAlbumFromWire,
  resumedAlbumFromWire,
  type KeptChatMessage,
  type OpenedAlbum,
  type ResumeAlbumClaim,
  type ResumedAlbum,
} from "./editing-wire.ts";
import type { RingSource } from "./data-transfer/ring-source.ts";
import { ReconnectingLink, type CentralClientOptions } from "./reconnecting-link.ts";

type RequestCase = Exclude<RequestBody["case"], undefined | "hello">;
type ReplyCase = Exclude<ServerFrame["body"]["case"], undefined | "error" | "notification">;
type ReplyValue<C extends ReplyCase> = Extract<ServerFrame["body"], { case: C }>["value"];

export type { CentralClientOptions } from "./reconnecting-link.ts";
export type {
  KeptChatMessage,
  OpenedAlbum,
  ResumeAlbumClaim,
  ResumedAlbum,
  SessionEditorInfo,
} from "./editing-wire.ts";

export interface CentralClientEvents {
  notification: [Notification];
  ring: [Ring];
  /** The connection was lost; reconnecting in the background (once per outage). */
  reconnecting: [{ reason: string }];
  /** Connected (and logged in) again (once per outage). */
  restored: [];
  /** Gave up: close() was called, or the login could not be restored. */
  close: [];
}

export class CentralClient extends EventEmitter<CentralClientEvents> implements RingSource {
  readonly address: string;
  readonly #link: ReconnectingLink;
  /** The resumable login (never the password). */
  #token: Uint8Array | undefined;
  #ring: Ring = Ring.empty();

  private constructor(options: CentralClientOptions) {
    super();
    this.#link = new ReconnectingLink(options, {
      token: () => this.#token,
      tokenRefused: () => {
        this.#token = undefined;
      },
      notification: (notification) => this.#onNotification(notification),
      reconnecting: (reason) => this.emit("reconnecting", { reason }),
      restored: () => this.emit("restored"),
      close: () => this.emit("close"),
    });
    this.address = this.#link.address;
  }

  /** Connects and exchanges hellos; rejects with Unavailable naming the address tried. */
  static async connect(options: CentralClientOptions): Promise<CentralClient> {
    const client = new CentralClient(options);
    await client.#link.connect();
    return client;
  }

  /** True once the client gave up (close(), or the login could not be restored). */
  get isClosed(): boolean {
    return this.#link.isClosed;
  }

  /** True while the connection is lost and being restored. */
  get isReconnecting(): boolean {
    return this.#link.isReconnecting;
  }

  /** Sends a request and waits for the reply of the expected kind. */
  async request<C extends ReplyCase>(
    expect: C,
    body: Extract<RequestBody, { case: RequestCase }>,
  ): Promise<ReplyValue<C>> {
    const reply = await this.#link.send(body);
    if (reply.body.case !== expect) {
      throw new AlbumError(
        ErrorCode.Internal,
        `expected a '${expect}' reply, got '${reply.body.case ?? "nothing"}'`,
      );
    }
    return reply.body.value as ReplyValue<C>;
  }

  close(): void {
    this.#link.close();
  }

  #onNotification(notification: Notification): void {
    if (notification.body.case === "ringChanged" && notification.body.value.ring) {
      this.#acceptRing(notification.body.value.ring);
    }
    this.emit("notification", notification);
  }

  #acceptRing(state: RingState): Ring {
    const ring = Ring.fromProto(state);
    if (ring.version >= this.#ring.version) {
      this.#ring = ring;
      this.emit("ring", ring);
    }
    return this.#ring;
  }

  // --- The user-facing operations -------------------------------------------------

  async register(name: string, password: string): Promise<void> {
    await this.request("register", {
      case: "register",
      value: { $typeName: "albumshare.central.v1.RegisterRequest", name, password },
    });
  }

  /** Logs in; the session token the server issues is kept to log in again after a reconnect. */
  async login(name: string, password: string): Promise<string> {
    const reply = await this.request("login", {
      case: "login",
      value: create(LoginRequestSchema, { name, password }),
    });
    this.#token = reply.sessionToken.byteLength > 0 ? reply.sessionToken : undefined;
    return reply.name;
  }

  /** Logs out; the server revokes the session token. */
  async logout(): Promise<void> {
    await this.request("logout", {
      case: "logout",
      value: { $typeName: "albumshare.central.v1.LogoutRequest" },
    });
    this.#token = undefined;
  }

  async createAlbum(name: string): Promise<void> {
    await this.request("createAlbum", {
      case: "createAlbum",
      value: { $typeName: "albumshare.central.v1.CreateAlbumRequest", name },
    });
  }

  async listAlbums(): Promise<
    { name: string; memberCount: number; editorCount: number; creator: string }[]
  > {
    const reply = await this.request("listAlbums", {
      case: "listAlbums",
      value: { $typeName: "albumshare.central.v1.ListAlbumsRequest" },
    });
    return reply.albums.map(({ name, memberCount, editorCount, creator }) => ({
      name,
      memberCount,
      editorCount,
      creator,
    }));
  }

  async userExists(name: string): Promise<boolean> {
    const reply = await this.request("userExists", {
      case: "userExists",
      value: { $typeName: "albumshare.central.v1.UserExistsRequest", name },
    });
    return reply.exists;
  }

  // --- Editing sessions --------------------------------------------------------------

  /**
   * Opens an editing session with our fresh peer public key: our slot, the
   * server's replica, the editors there (with their keys), the ring.
   */
  async getAlbum(album: string, peerPublicKey: Uint8Array): Promise<OpenedAlbum> {
    const reply = await this.request("getAlbum", {
      case: "getAlbum",
      value: create(GetAlbumRequestSchema, { album, peerPublicKey }),
    });
    if (reply.ring) this.#acceptRing(reply.ring);
    return openedAlbumFromWire(reply);
  }

  /**
   * Reclaims our slot of an editing session after a lost connection (or a
   * restart of the server) and hands in what the server may lack.
   */
  async resumeAlbum(claim: ResumeAlbumClaim): Promise<ResumedAlbum> {
    const reply = await this.request("resumeAlbum", {
      case: "resumeAlbum",
      value: create(ResumeAlbumRequestSchema, {
        ...claim,
        counter: BigInt(claim.counter),
        chat: claim.chat.map(chatToWire),
      }),
    });
    if (reply.ring) this.#acceptRing(reply.ring);
    return resumedAlbumFromWire(reply);
  }

  /** Tells the server (and through it the other editors) where our peer endpoint is. */
  async announceEditor(album: string, address: string): Promise<void> {
    await this.request("announceEditor", {
      case: "announceEditor",
      value: create(AnnounceEditorRequestSchema, { album, address }),
    });
  }

  /** Hands a delta (or state) of the open session to the server, which stores it durably. */
  async handOff(
    album: string,
    delta: Uint8Array,
    chat: readonly KeptChatMessage[] = [],
  ): Promise<void> {
    await this.request("handOff", {
      case: "handOff",
      value: create(HandOffRequestSchema, { album, delta, chat: chat.map(chatToWire) }),
    });
  }

  /** Hands the final replica to the server and leaves the session. */
  async putAlbum(
    album: string,
    replica: Uint8Array,
    chat: readonly KeptChatMessage[] = [],
    chatSeq = 0,
  ): Promise<void> {
    await this.request("putAlbum", {
      case: "putAlbum",
      value: create(PutAlbumRequestSchema, {
        album,
        replica,
        chat: chat.map(chatToWire),
        chatSeq,
      }),
    });
  }

  /** Records our rating of a file with its stars; AlreadyExists if we rated it before. */
  async recordRating(album: string, fileId: string, stars: number): Promise<void> {
    await this.request("recordRating", {
      case: "recordRating",
      value: create(RecordRatingRequestSchema, { album, fileId, stars }),
    });
  }

  // --- RingSource --------------------------------------------------------------------

  current(): Ring {
    return this.#ring;
  }

  async refresh(): Promise<Ring> {
    const reply = await this.request("getRing", {
      case: "getRing",
      value: { $typeName: "albumshare.central.v1.GetRingRequest" },
    });
    return reply.ring ? this.#acceptRing(reply.ring) : this.#ring;
  }
}
