// The logged-in browser sessions of one web server: a login opens a central
// connection of its own and gets a random session token (the cookie), a
// logout or an expired idle session hands everything back. The number of
// sessions is bounded. Tokens are compared by map lookup of their full
// 256-bit value; a token is never logged.
import { randomBytes } from "node:crypto";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import type { Logger } from "../common/logger.ts";
import { CentralClient } from "../client/central-client.ts";
import type { PeerEndpointOptions } from "../client/session/album-session.ts";
import { BrowserSession, type BrowserSessionOptions } from "./browser-session.ts";
import type { RenditionTags } from "./rendition-tag.ts";

export interface BrowserSessionsOptions {
  central: string;
  peer: PeerEndpointOptions;
  logger: Logger;
  maxSessions: number;
  /** A session unused for this long is logged out. */
  idleTimeoutMs: number;
  /** An album with no page open is handed back after this long. */
  albumIdleCloseMs: number;
  prefetch?: BrowserSessionOptions["prefetch"];
  tags: RenditionTags;
}

interface Held {
  session: BrowserSession;
  lastUsed: number;
}

export class BrowserSessions {
  readonly #options: BrowserSessionsOptions;
  readonly #byToken = new Map<string, Held>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: BrowserSessionsOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => void this.#sweep(), Math.min(60_000, options.idleTimeoutMs));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** The live session of a cookie token, or undefined. */
  get(token: string | undefined): BrowserSession | undefined {
    if (token === undefined) return undefined;
    const held = this.#byToken.get(token);
    if (!held) return undefined;
    if (held.session.isClosed) {
      this.#byToken.delete(token);
      void held.session.close();
      return undefined;
    }
    held.lastUsed = Date.now();
    return held.session;
  }

  async register(name: string, password: string): Promise<void> {
    const central = await this.#connect();
    try {
      await central.register(name, password);
    } finally {
      central.close();
    }
  }

  /** Logs in on a new central connection; returns the new session's token. */
  async login(name: string, password: string): Promise<{ token: string; user: string }> {
    if (this.#byToken.size >= this.#options.maxSessions) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        "this web server has as many logged-in sessions as it allows; try again later",
      );
    }
    const central = await this.#connect();
    let user: string;
    try {
      user = await central.login(name, password);
    } catch (error) {
      central.close();
      throw error;
    }
    const session = new BrowserSession({
      central,
      user,
      peer: this.#options.peer,
      logger: this.#options.logger.child({ user }),
      idleCloseMs: this.#options.albumIdleCloseMs,
      tags: this.#options.tags,
      ...(this.#options.prefetch ? { prefetch: this.#options.prefetch } : {}),
    });
    // Most logins open an album next: its thumbnails come from the data servers.
    void session.transfer.warmUp();
    const token = randomBytes(32).toString("base64url");
    this.#byToken.set(token, { session, lastUsed: Date.now() });
    return { token, user };
  }

  async logout(token: string): Promise<void> {
    const held = this.#byToken.get(token);
    if (!held) return;
    this.#byToken.delete(token);
    await held.session.close();
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#byToken.values()];
    this.#byToken.clear();
    await Promise.allSettled(all.map((held) => held.session.close()));
  }

  async #connect(): Promise<CentralClient> {
    try {
      return await CentralClient.connect({ address: this.#options.central });
    } catch (error) {
      const failure = AlbumError.from(error, ErrorCode.Unavailable);
      throw new AlbumError(failure.code, `central server unreachable: ${failure.message}`, {
        cause: failure,
      });
    }
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    for (const [token, held] of this.#byToken) {
      const idle =
        now - held.lastUsed > this.#options.idleTimeoutMs && held.session.livePages === 0;
      if (idle || held.session.isClosed) {
        this.#byToken.delete(token);
        await held.session.close().catch(() => {});
      }
    }
  }
}
