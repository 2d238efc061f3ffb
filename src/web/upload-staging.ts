// Browser uploads, staged on disk: a request body is streamed into a file of
// its own (flat memory whatever the size: the stream's backpressure holds the
// socket while the disk catches up), bounded in size, and given an id the
// page then names when it adds the file (with its poster frame, for a video).
// A staged upload nobody claims is deleted after a while; an aborted request
// leaves nothing behind. Never reads a whole body into memory.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { AlbumError, ErrorCode, notFound } from "../common/album-error.ts";
import { tooManyAtOnce } from "./request-limits.ts";

export interface StagedUpload {
  readonly id: string;
  readonly owner: string;
  readonly path: string;
  readonly size: number;
}

export interface UploadStagingOptions {
  dir: string;
  maxUploadBytes: number;
  /** Staged uploads not claimed within this time are deleted. */
  unclaimedMs: number;
  /** At most this many staged (or arriving) uploads per owner. */
  maxPerOwner: number;
  /** At most this many uploads arriving at once, all owners together. */
  maxReceiving: number;
}

export class UploadStaging {
  readonly #options: UploadStagingOptions;
  readonly #staged = new Map<string, StagedUpload & { timer: NodeJS.Timeout }>();
  readonly #perOwner = new Map<string, number>();
  #receiving = 0;

  constructor(options: UploadStagingOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await rm(this.#options.dir, { recursive: true, force: true });
    await mkdir(this.#options.dir, { recursive: true, mode: 0o700 });
  }

  /** Streams the request body to disk; resolves once it is whole. */
  async receive(owner: string, request: IncomingMessage): Promise<StagedUpload> {
    const count = this.#perOwner.get(owner) ?? 0;
    if (count >= this.#options.maxPerOwner) {
      throw tooManyAtOnce(
        `too many uploads at once (at most ${this.#options.maxPerOwner} per user); wait for some to finish`,
      );
    }
    if (this.#receiving >= this.#options.maxReceiving) {
      throw tooManyAtOnce("this web server is receiving too many uploads; try again shortly");
    }
    const declared = Number(request.headers["content-length"] ?? Number.NaN);
    if (declared > this.#options.maxUploadBytes) throw this.#tooLarge();
    this.#perOwner.set(owner, count + 1);
    this.#receiving++;
    const id = randomBytes(16).toString("hex");
    const path = join(this.#options.dir, id);
    let size = 0;
    const limit = this.#options.maxUploadBytes;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        size += chunk.length;
        if (size > limit) done(this.#tooLarge());
        else done(null, chunk);
      },
    });
    try {
      await pipeline(request, counter, createWriteStream(path, { mode: 0o600 }));
    } catch (error) {
      this.#receiving--;
      this.#release(owner);
      await rm(path, { force: true });
      if (error instanceof AlbumError) throw error;
      throw new AlbumError(ErrorCode.Unavailable, "the upload was interrupted", { cause: error });
    }
    this.#receiving--;
    const timer = setTimeout(() => void this.discard(id), this.#options.unclaimedMs);
    timer.unref();
    const staged = { id, owner, path, size, timer };
    this.#staged.set(id, staged);
    return { id, owner, path, size };
  }

  /** The staged upload `id` of `owner`; it stays until discard(). */
  claim(owner: string, id: string): StagedUpload {
    const staged = this.#staged.get(id);
    if (!staged || staged.owner !== owner) throw notFound("no such upload (it may have expired)");
    clearTimeout(staged.timer);
    return staged;
  }

  async discard(id: string): Promise<void> {
    const staged = this.#staged.get(id);
    if (!staged) return;
    this.#staged.delete(id);
    clearTimeout(staged.timer);
    this.#release(staged.owner);
    await rm(staged.path, { force: true });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#staged.keys()].map((id) => this.discard(id)));
  }

  #release(owner: string): void {
    const count = (this.#perOwner.get(owner) ?? 1) - 1;
    if (count <= 0) this.#perOwner.delete(owner);
    else this.#perOwner.set(owner, count);
  }

  #tooLarge(): AlbumError {
    return new AlbumError(
      ErrorCode.ResourceExhausted,
      `the upload is larger than this web server accepts (${this.#options.maxUploadBytes} bytes)`,
    );
  }
}
