// What a request handler of the central server may use: the connection it
// serves (with its login state) and the server's services. Handlers are plain
// async functions routed by the table in handlers/index.ts.
import type { Logger } from "pino";
import type { ClientFrame, ServerFrame } from "../gen/albumshare/central/v1/central_pb.ts";
import type { CentralStore } from "./central-store.ts";
import type { ScryptParameters } from "./password-hasher.ts";
import type { LoginTokens } from "./login-tokens.ts";
import type { RingProvider } from "./ring-provider.ts";
import type { EditingSessions } from "./sessions/editing-sessions.ts";

export type RequestCase = Exclude<ClientFrame["body"]["case"], undefined>;
export type RequestOf<C extends RequestCase> = Extract<ClientFrame["body"], { case: C }>["value"];
export type ReplyBody = ServerFrame["body"];

export interface ConnectionState {
  readonly id: number;
  readonly remoteAddress: string;
  /** The logged-in user, or undefined before login / after logout. */
  user: string | undefined;
  /** The session token this login was made with or issued (revoked by logout). */
  loginToken?: Uint8Array | undefined;
  /** Queues a notification frame to this connection. */
  notify(notification: ServerFrame["body"]): void;
}

export interface CentralServices {
  readonly store: CentralStore;
  readonly logger: Logger;
  readonly scrypt: ScryptParameters;
  readonly decoyPasswordHash: Promise<string>;
  readonly ring: RingProvider;
  readonly sessions: EditingSessions;
  readonly loginTokens: LoginTokens;
  /** How often editors hand their changes off (told to them by getAlbum). */
  readonly handOffIntervalMs: number;
  /** Every open connection where `user` is logged in. */
  connectionsOf(user: string): ConnectionState[];
}

export interface HandlerContext {
  readonly connection: ConnectionState;
  readonly services: CentralServices;
}

export type Handler<C extends RequestCase> = (
  request: RequestOf<C>,
  context: HandlerContext,
) => Promise<ReplyBody> | ReplyBody;

export type HandlerTable = { [C in RequestCase]?: Handler<C> };
