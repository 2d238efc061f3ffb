// The one way the central server's handlers check or create a password hash:
// logins are throttled per source address and per user name (LoginThrottle),
// and every hash runs in a FairWorkQueue (bounded concurrency, turns between
// addresses, dropped when the connection closes). So a flood of wrong
// passwords from one address costs it growing waits while a client from
// another address is answered after about one hash.
// It never logs or returns a password, and never says whether a name exists.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { hashPassword, verifyPassword, type ScryptParameters } from "../password-hasher.ts";
import { FairWorkQueue } from "./fair-work-queue.ts";
import {
  DEFAULT_ADDRESS_POLICY,
  DEFAULT_NAME_POLICY,
  LoginThrottle,
  type ThrottlePolicy,
} from "./login-throttle.ts";

export interface PasswordGuardOptions {
  scrypt: ScryptParameters;
  /** Hashes at once (each takes ~32 MiB and one thread-pool thread). */
  concurrency?: number;
  addressPolicy?: ThrottlePolicy;
  namePolicy?: ThrottlePolicy;
  now?: () => number;
}

/** Who asks: the source address (not port) and the connection's close signal. */
export interface Asker {
  host: string;
  signal: AbortSignal;
}

export const DEFAULT_HASH_CONCURRENCY = 2;

export class PasswordGuard {
  private readonly queue: FairWorkQueue;
  private readonly byAddress: LoginThrottle;
  private readonly byName: LoginThrottle;
  private readonly now: () => number;

  constructor(private readonly options: PasswordGuardOptions) {
    this.queue = new FairWorkQueue(options.concurrency ?? DEFAULT_HASH_CONCURRENCY);
    this.byAddress = new LoginThrottle(options.addressPolicy ?? DEFAULT_ADDRESS_POLICY);
    this.byName = new LoginThrottle(options.namePolicy ?? DEFAULT_NAME_POLICY);
    this.now = options.now ?? (() => Date.now());
  }

  /** A new hash (registration): fair and bounded, not throttled. */
  hash(asker: Asker, password: string): Promise<string> {
    return this.queue.run(asker.host, asker.signal, () =>
      hashPassword(password, this.options.scrypt),
    );
  }

  /** Checks a login attempt, waiting its turn if this address or name failed often. */
  async verify(asker: Asker, name: string, password: string, encoded: string): Promise<boolean> {
    const nameKey = name.toLowerCase();
    const now = this.now();
    const byAddress = this.byAddress.admit(asker.host, now);
    const byName = byAddress.admitted ? this.byName.admit(nameKey, now) : byAddress;
    if (!byAddress.admitted) throw tooMany("from this address", byAddress.retryInMs);
    if (!byName.admitted) throw tooMany("for this name", byName.retryInMs);
    await sleep(Math.max(byAddress.waitMs, byName.waitMs), asker.signal);
    const ok = await this.queue.run(asker.host, asker.signal, () =>
      verifyPassword(password, encoded),
    );
    const after = this.now();
    if (ok) {
      // The address is not forgiven by one success: an attacker with an
      // account of their own could otherwise reset their slowdown at will.
      this.byName.succeeded(nameKey);
    } else {
      this.byAddress.failed(asker.host, after);
      this.byName.failed(nameKey, after);
    }
    return ok;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(gone());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(gone());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function gone(): AlbumError {
  return new AlbumError(ErrorCode.Unavailable, "the connection closed while waiting");
}

function tooMany(what: string, retryInMs: number): AlbumError {
  return new AlbumError(
    ErrorCode.ResourceExhausted,
    `too many failed logins ${what}; try again in ${Math.ceil(retryInMs / 1000)} s`,
  );
}
