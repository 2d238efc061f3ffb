// The central-server connection that survives losing its socket: it opens a
// CentralLink, and when that closes unexpectedly it reconnects with
// exponential backoff and jitter (reconnect-policy.ts), logs in again with the
// session token its owner holds, and tells its owner once that it is
// reconnecting and once that it is back. Requests issued meanwhile wait a
// bounded time (reconnectWaitMs), then fail with Unavailable; requests that
// were in flight when the socket died fail at once with Unavailable (the
// caller decides whether to repeat them: nothing is repeated behind its back).
// It never prints and never holds a password.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import {
  LoginRequestSchema,
  type ClientFrame,
  type Notification,
  type ServerFrame,
} from "../gen/albumshare/central/v1/central_pb.ts";
import { DEFAULT_CENTRAL_PORT } from "../protocol/version.ts";
import { CentralLink } from "./central-link.ts";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "./reconnect-policy.ts";

export interface CentralClientOptions {
  /** host:port of the central server. */
  address: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** How long a command issued while reconnecting waits before failing (default 10 s). */
  reconnectWaitMs?: number;
  /** Default: 200 ms doubling, capped at 5 s. */
  backoff?: BackoffPolicy;
  /** The jitter's random source (default Math.random). */
  random?: () => number;
}

/** What the owner provides and is told. */
export interface ReconnectingLinkOwner {
  /** The session token to log in with after a reconnect (none: stay logged out). */
  token(): Uint8Array | undefined;
  /** The server refused the token; the owner forgets it. */
  tokenRefused(): void;
  notification(notification: Notification): void;
  reconnecting(reason: string): void;
  restored(): void;
  close(): void;
}

interface Waiter {
  resolve(): void;
  reject(error: AlbumError): void;
  timer: NodeJS.Timeout;
}

type LinkState = "connecting" | "connected" | "reconnecting" | "closed";

export class ReconnectingLink {
  readonly address: string;
  readonly #options: Required<Omit<CentralClientOptions, "address">>;
  readonly #owner: ReconnectingLinkOwner;
  #link: CentralLink | undefined;
  #state: LinkState = "connecting";
  #closedError: AlbumError | undefined;
  readonly #waiters = new Set<Waiter>();
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: CentralClientOptions, owner: ReconnectingLinkOwner) {
    this.address = formatHostPort(parseHostPort(options.address, DEFAULT_CENTRAL_PORT));
    this.#owner = owner;
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      reconnect: options.reconnect ?? true,
      reconnectWaitMs: options.reconnectWaitMs ?? 10_000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      random: options.random ?? Math.random,
    };
  }

  /** The first connection; rejects with Unavailable (no retry: the person is told at once). */
  async connect(): Promise<void> {
    this.#link = await this.#openLink();
    this.#state = "connected";
  }

  get isClosed(): boolean {
    return this.#state === "closed";
  }

  get isReconnecting(): boolean {
    return this.#state === "reconnecting";
  }

  async send(body: ClientFrame["body"]): Promise<ServerFrame> {
    if (this.#state === "reconnecting") await this.#waitRestored();
    if (this.#state === "closed" || !this.#link) throw this.#closedError!;
    return this.#link.send(body);
  }

  close(): void {
    if (this.#state === "closed") return;
    const wasConnected = this.#state === "connected";
    this.#giveUp(new AlbumError(ErrorCode.Unavailable, "the connection was closed"));
    if (wasConnected) this.#link?.end();
    else this.#owner.close();
  }

  #openLink(): Promise<CentralLink> {
    let link: CentralLink | undefined;
    return CentralLink.open({
      address: this.address,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      onNotification: (notification) => {
        if (link === this.#link) this.#owner.notification(notification);
      },
      onClose: () => {
        if (link === this.#link) this.#onLinkClosed();
      },
    }).then((opened) => (link = opened));
  }

  #onLinkClosed(): void {
    if (this.#state === "closed") {
      this.#owner.close();
      return;
    }
    if (!this.#options.reconnect) {
      this.#giveUp(
        new AlbumError(
          ErrorCode.Unavailable,
          `lost the connection to the central server at ${this.address}`,
        ),
      );
      this.#owner.close();
      return;
    }
    this.#state = "reconnecting";
    this.#owner.reconnecting(`lost the connection to the central server at ${this.address}`);
    this.#scheduleAttempt(0);
  }

  #scheduleAttempt(attempt: number): void {
    const delay = backoffDelayMs(attempt, this.#options.random, this.#options.backoff);
    this.#retryTimer = setTimeout(() => void this.#attempt(attempt), delay);
    this.#retryTimer.unref();
  }

  async #attempt(attempt: number): Promise<void> {
    if (this.#state !== "reconnecting") return;
    let link: CentralLink;
    try {
      link = await this.#openLink();
    } catch {
      if (this.#state === "reconnecting") this.#scheduleAttempt(attempt + 1);
      return;
    }
    if (this.#state !== "reconnecting") {
      link.destroy();
      return;
    }
    const token = this.#owner.token();
    if (token) {
      try {
        await link.send({
          case: "login",
          value: create(LoginRequestSchema, { sessionToken: token }),
        });
      } catch (error) {
        const failure = AlbumError.from(error, ErrorCode.Unavailable);
        link.destroy();
        if (failure.code === ErrorCode.Unauthenticated) {
          // The token expired or was revoked: the login cannot come back by itself.
          this.#owner.tokenRefused();
          this.#giveUp(
            new AlbumError(
              ErrorCode.Unauthenticated,
              `reconnected to ${this.address}, but the login could not be restored (${failure.message})`,
            ),
          );
          this.#owner.close();
        } else if (this.#state === "reconnecting") {
          this.#scheduleAttempt(attempt + 1);
        }
        return;
      }
    }
    this.#link = link;
    this.#state = "connected";
    // Listeners (a session resuming) send first; the waiting commands follow
    // on the next turn, so the server sees the resume before them.
    this.#owner.restored();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.#waiters.clear();
  }

  #waitRestored(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new AlbumError(
              ErrorCode.Unavailable,
              `the central server at ${this.address} is unreachable; reconnecting in the background, try again`,
            ),
          );
        }, this.#options.reconnectWaitMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #giveUp(error: AlbumError): void {
    this.#state = "closed";
    this.#closedError = error;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}
