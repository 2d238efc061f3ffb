// The client core's connection to the central server, as a library: connect
// (with the hello exchange), typed requests that resolve with the reply or
// reject with an AlbumError carrying the server's code, pushed notifications
// as events, keep-alive pings, and the data-server ring as a RingSource.
// The shell (src/cli) and the tests use it; it never prints anything.
import { create } from "@bufbuild/protobuf";
import { EventEmitter } from "node:events";
import { connect as connectTcp } from "node:net";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import {
  AnnounceEditorRequestSchema,
  ClientFrameSchema,
  GetAlbumRequestSchema,
  HandOffRequestSchema,
  HelloSchema,
  PutAlbumRequestSchema,
  RecordRatingRequestSchema,
  ServerFrameSchema,
  type ClientFrame,
  type Notification,
  type ServerFrame,
} from "../gen/albumshare/central/v1/central_pb.ts";
import type { RingState } from "../gen/albumshare/ring/v1/ring_pb.ts";
import { FramedSocket } from "../protocol/framed-socket.ts";
import { CENTRAL_PROTOCOL_VERSION, DEFAULT_CENTRAL_PORT } from "../protocol/version.ts";
import { errorFromWire } from "../protocol/wire-error.ts";
import { Ring } from "../ring/ring.ts";
import type { RingSource } from "./data-transfer/ring-source.ts";

type RequestBody = ClientFrame["body"];
type RequestCase = Exclude<RequestBody["case"], undefined | "hello">;
type ReplyCase = Exclude<ServerFrame["body"]["case"], undefined | "error" | "notification">;
type ReplyValue<C extends ReplyCase> = Extract<ServerFrame["body"], { case: C }>["value"];

export interface CentralClientOptions {
  /** host:port of the central server. */
  address: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

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
}

export interface CentralClientEvents {
  notification: [Notification];
  ring: [Ring];
  close: [];
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(error: AlbumError): void;
  timer: NodeJS.Timeout;
}

export class CentralClient extends EventEmitter<CentralClientEvents> implements RingSource {
  readonly address: string;
  private readonly framed: FramedSocket<typeof ServerFrameSchema, typeof ClientFrameSchema>;
  private readonly pending = new Map<bigint, Pending>();
  private readonly requestTimeoutMs: number;
  private nextRequestId = 1n;
  private pingTimer: NodeJS.Timeout | undefined;
  private ring: Ring = Ring.empty();
  private closedError: AlbumError | undefined;

  private constructor(
    address: string,
    framed: FramedSocket<typeof ServerFrameSchema, typeof ClientFrameSchema>,
    requestTimeoutMs: number,
  ) {
    super();
    this.address = address;
    this.framed = framed;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /** Connects and exchanges hellos; rejects with Unavailable naming the address tried. */
  static async connect(options: CentralClientOptions): Promise<CentralClient> {
    const target = parseHostPort(options.address, DEFAULT_CENTRAL_PORT);
    const address = formatHostPort(target);
    const socket = connectTcp({ host: target.host, port: target.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new AlbumError(ErrorCode.Unavailable, `central server at ${address} did not answer`),
        );
      }, options.connectTimeoutMs ?? 5000);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(
          new AlbumError(
            ErrorCode.Unavailable,
            `cannot reach the central server at ${address} (${(error as NodeJS.ErrnoException).code ?? error.message})`,
            {
              cause: error,
            },
          ),
        );
      });
    });
    // The socket's handlers need the client, which needs the framed socket:
    // declared first, assigned once right below.
    // eslint-disable-next-line prefer-const
    let client: CentralClient | undefined;
    const framed = new FramedSocket(socket, ServerFrameSchema, ClientFrameSchema, {
      message: (frame) => client?.receive(frame),
      protocolError: (error) => {
        client?.failAll(error);
        framed.destroy();
      },
      close: () => client?.onClosed(),
    });
    client = new CentralClient(address, framed, options.requestTimeoutMs ?? 30_000);
    const hello = await client.send({
      case: "hello",
      value: create(HelloSchema, {
        protocolVersion: CENTRAL_PROTOCOL_VERSION,
        agent: "albumshare-client",
      }),
    });
    if (hello.body.case !== "hello")
      throw new AlbumError(ErrorCode.Internal, "the server did not answer the hello");
    const idle = hello.body.value.idleTimeoutMs || 30_000;
    client.pingTimer = setInterval(
      () => {
        client
          .request("pong", { case: "ping", value: { $typeName: "albumshare.central.v1.Ping" } })
          .catch(() => {});
      },
      Math.max(500, Math.floor(idle / 3)),
    );
    client.pingTimer.unref();
    return client;
  }

  get isClosed(): boolean {
    return this.framed.isClosed;
  }

  /** Sends a request and waits for the reply of the expected kind. */
  async request<C extends ReplyCase>(
    expect: C,
    body: Extract<RequestBody, { case: RequestCase }>,
  ): Promise<ReplyValue<C>> {
    const reply = await this.send(body);
    if (reply.body.case !== expect) {
      throw new AlbumError(
        ErrorCode.Internal,
        `expected a '${expect}' reply, got '${reply.body.case ?? "nothing"}'`,
      );
    }
    return reply.body.value as ReplyValue<C>;
  }

  private send(body: RequestBody): Promise<ServerFrame> {
    if (this.closedError) return Promise.reject(this.closedError);
    const requestId = this.nextRequestId++;
    const frame = create(ClientFrameSchema, { requestId, body });
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new AlbumError(
            ErrorCode.Unavailable,
            `the central server at ${this.address} did not answer in time`,
          ),
        );
      }, this.requestTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.framed.send(frame).catch((error: unknown) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(AlbumError.from(error, ErrorCode.Unavailable));
      });
    });
  }

  private receive(frame: ServerFrame): void {
    if (frame.requestId === 0n) {
      if (frame.body.case === "notification") this.onNotification(frame.body.value);
      else if (frame.body.case === "error") this.failAll(errorFromWire(frame.body.value));
      return;
    }
    const pending = this.pending.get(frame.requestId);
    if (!pending) return;
    this.pending.delete(frame.requestId);
    clearTimeout(pending.timer);
    if (frame.body.case === "error") pending.reject(errorFromWire(frame.body.value));
    else pending.resolve(frame);
  }

  private onNotification(notification: Notification): void {
    if (notification.body.case === "ringChanged" && notification.body.value.ring) {
      this.acceptRing(notification.body.value.ring);
    }
    this.emit("notification", notification);
  }

  private acceptRing(state: RingState): Ring {
    const ring = Ring.fromProto(state);
    if (ring.version >= this.ring.version) {
      this.ring = ring;
      this.emit("ring", ring);
    }
    return this.ring;
  }

  private failAll(error: AlbumError): void {
    this.closedError ??= error;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private onClosed(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.failAll(
      new AlbumError(
        ErrorCode.Unavailable,
        `lost the connection to the central server at ${this.address}`,
      ),
    );
    this.emit("close");
  }

  close(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.framed.end();
  }

  // --- The user-facing operations -------------------------------------------------

  async register(name: string, password: string): Promise<void> {
    await this.request("register", {
      case: "register",
      value: { $typeName: "albumshare.central.v1.RegisterRequest", name, password },
    });
  }

  async login(name: string, password: string): Promise<string> {
    const reply = await this.request("login", {
      case: "login",
      value: { $typeName: "albumshare.central.v1.LoginRequest", name, password },
    });
    return reply.name;
  }

  async logout(): Promise<void> {
    await this.request("logout", {
      case: "logout",
      value: { $typeName: "albumshare.central.v1.LogoutRequest" },
    });
  }

  async createAlbum(name: string): Promise<void> {
    await this.request("createAlbum", {
      case: "createAlbum",
      value: { $typeName: "albumshare.central.v1.CreateAlbumRequest", name },
    });
  }

  async listAlbums(): Promise<{ name: string; memberCount: number; editorCount: number }[]> {
    const reply = await this.request("listAlbums", {
      case: "listAlbums",
      value: { $typeName: "albumshare.central.v1.ListAlbumsRequest" },
    });
    return reply.albums.map(({ name, memberCount, editorCount }) => ({
      name,
      memberCount,
      editorCount,
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
    if (reply.ring) this.acceptRing(reply.ring);
    return {
      album: reply.album,
      slot: reply.slot,
      sessionId: reply.sessionId,
      replica: reply.replica,
      ratedFileIds: [...reply.ratedFileIds],
      editors: reply.editors.map(({ slot, user, address, publicKey }) => ({
        slot,
        user,
        address,
        publicKey,
      })),
      handOffIntervalMs: reply.handOffIntervalMs,
      sessionToken: reply.sessionToken,
      ratingTallies: new Map(
        reply.ratingTallies.map((t) => [t.fileId, { raters: t.raters, stars: Number(t.stars) }]),
      ),
      highestSlot: reply.highestSlot,
      pastEditors: reply.pastEditors.map(({ slot, user }) => ({ slot, user })),
    };
  }

  /** Tells the server (and through it the other editors) where our peer endpoint is. */
  async announceEditor(album: string, address: string): Promise<void> {
    await this.request("announceEditor", {
      case: "announceEditor",
      value: create(AnnounceEditorRequestSchema, { album, address }),
    });
  }

  /** Hands a delta (or state) of the open session to the server, which stores it durably. */
  async handOff(album: string, delta: Uint8Array): Promise<void> {
    await this.request("handOff", {
      case: "handOff",
      value: create(HandOffRequestSchema, { album, delta }),
    });
  }

  /** Hands the final replica to the server and leaves the session. */
  async putAlbum(album: string, replica: Uint8Array): Promise<void> {
    await this.request("putAlbum", {
      case: "putAlbum",
      value: create(PutAlbumRequestSchema, { album, replica }),
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
    return this.ring;
  }

  async refresh(): Promise<Ring> {
    const reply = await this.request("getRing", {
      case: "getRing",
      value: { $typeName: "albumshare.central.v1.GetRingRequest" },
    });
    return reply.ring ? this.acceptRing(reply.ring) : this.ring;
  }
}
