// The live channels (one WebSocket per open album page) the web server holds,
// bounded: at most so many per browser session and so many in all, the
// newest refused with a clear message (a page already open is never closed
// to make room, so one session cannot push out another's pages); and the
// slow-consumer rule: a channel whose page does not read is closed (the page
// reconnects and gets a fresh album view) once its own backlog passes a bound,
// or once all channels' backlogs together pass a bound and it has one, so
// held memory never grows with a page that stopped reading. Knows nothing of
// HTTP or ws: a channel is anything with a backlog that can send and be
// terminated.

/** The part of a WebSocket this registry needs. */
export interface ChannelSocket {
  /** Bytes queued for this page and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(text: string): void;
  terminate(): void;
}

export interface LiveChannelLimits {
  perSession: number;
  perServer: number;
  /** A channel whose backlog passes this is closed at its next message. */
  channelBufferBytes: number;
  /** When all backlogs together pass this, a channel with any backlog is closed at its next message. */
  totalBufferBytes: number;
}

export const DEFAULT_LIVE_CHANNEL_LIMITS: LiveChannelLimits = {
  perSession: 32,
  perServer: 256,
  channelBufferBytes: 8 * 1024 * 1024,
  totalBufferBytes: 64 * 1024 * 1024,
};

export type Admission =
  { admitted: true; channel: LiveChannel } | { admitted: false; reason: string };

export interface LiveChannel {
  /** Sends `text` unless the page is too slow, in which case it is closed; false then. */
  send(text: string): boolean;
  /** Forgets the channel (its socket closed). */
  remove(): void;
}

export class LiveChannels {
  readonly #limits: LiveChannelLimits;
  readonly #all = new Set<ChannelSocket>();
  readonly #bySession = new Map<object, Set<ChannelSocket>>();
  #slowClosed = 0;

  constructor(limits: LiveChannelLimits = DEFAULT_LIVE_CHANNEL_LIMITS) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#all.size;
  }

  /** Channels closed so far because their page did not read. */
  get slowClosed(): number {
    return this.#slowClosed;
  }

  /** Registers a new channel of `session` (any object naming a browser session), or refuses it. */
  admit(session: object, socket: ChannelSocket): Admission {
    const mine = this.#bySession.get(session) ?? new Set<ChannelSocket>();
    if (mine.size >= this.#limits.perSession) {
      return {
        admitted: false,
        reason: `too many open album pages for this login (at most ${this.#limits.perSession}): close some and reload`,
      };
    }
    if (this.#all.size >= this.#limits.perServer) {
      return {
        admitted: false,
        reason: `this web server has too many open album pages (at most ${this.#limits.perServer}): try again later`,
      };
    }
    mine.add(socket);
    this.#bySession.set(session, mine);
    this.#all.add(socket);
    let removed = false;
    const remove = (): void => {
      if (removed) return;
      removed = true;
      this.#all.delete(socket);
      mine.delete(socket);
      if (mine.size === 0 && this.#bySession.get(session) === mine) this.#bySession.delete(session);
    };
    return {
      admitted: true,
      channel: {
        send: (text) => {
          if (removed) return false;
          if (this.#tooSlow(socket)) {
            this.#slowClosed++;
            remove();
            socket.terminate();
            return false;
          }
          socket.send(text);
          return true;
        },
        remove,
      },
    };
  }

  #tooSlow(socket: ChannelSocket): boolean {
    const own = socket.bufferedAmount;
    if (own > this.#limits.channelBufferBytes) return true;
    if (own === 0) return false;
    let total = 0;
    for (const other of this.#all) total += other.bufferedAmount;
    return total > this.#limits.totalBufferBytes;
  }
}
