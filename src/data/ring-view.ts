// A data server's view of the ring: the newest version it has adopted, and a
// way to wait for a version a peer or a client already knows. Versions only
// move forward. No sockets here: the cluster link feeds it.

import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { Ring } from "../ring/ring.ts";

export class RingView {
  private ring: Ring = Ring.empty();
  private waiters: { version: number; resolve: () => void }[] = [];

  current(): Ring {
    return this.ring;
  }

  get version(): number {
    return this.ring.version;
  }

  /** Adopts `ring` if it is newer; returns whether it was. */
  adopt(ring: Ring): boolean {
    if (ring.version <= this.ring.version) return false;
    this.ring = ring;
    const ready = this.waiters.filter((w) => w.version <= ring.version);
    this.waiters = this.waiters.filter((w) => w.version > ring.version);
    for (const waiter of ready) waiter.resolve();
    return true;
  }

  /**
   * Resolves with a ring of at least `version`; Unavailable after `timeoutMs`
   * (the central server has not published it to us yet).
   */
  async atLeast(version: number, timeoutMs: number, signal?: AbortSignal): Promise<Ring> {
    if (this.ring.version >= version) return this.ring;
    let timer: NodeJS.Timeout | undefined;
    let waiter: { version: number; resolve: () => void } | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { version, resolve };
        this.waiters.push(waiter);
        timer = setTimeout(
          () =>
            reject(
              new AlbumError(
                ErrorCode.Unavailable,
                `this data server has not yet received ring version ${version} (it has ${this.ring.version}); retry shortly`,
              ),
            ),
          timeoutMs,
        );
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
    return this.ring;
  }
}
