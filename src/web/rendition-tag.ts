// The version tag in a picture's address (`.../files/FILEID/thumbnail?v=TAG`):
// it changes whenever what that address serves would change, so the browser
// may keep the picture for good (the content behind it is content-addressed)
// and a reload shows the first screen from its own cache. The tag is a keyed
// hash (HMAC with a secret of this web server process) of the keys served for
// the file: it names a version without revealing, or letting anyone derive
// or compare, a content key. It must never be a key or a plain hash of one.
import { createHmac, randomBytes } from "node:crypto";
import type { AlbumFile } from "../crdt/index.ts";

export class RenditionTags {
  readonly #secret: Buffer;
  /** Listings are rebuilt after each change, their entries seldom: keep the tags by entry. */
  readonly #memo = new WeakMap<AlbumFile, string>();

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret;
  }

  /** The tag of what the file's thumbnail, preview and original addresses serve now. */
  of(file: AlbumFile): string {
    let tag = this.#memo.get(file);
    if (tag === undefined) {
      const media = file.media;
      tag = createHmac("sha256", this.#secret)
        .update(
          `v1\u0000${file.contentKey}\u0000${media?.thumbnailKey ?? ""}\u0000${media?.previewKey ?? ""}`,
        )
        .digest("base64url")
        .slice(0, 16);
      this.#memo.set(file, tag);
    }
    return tag;
  }
}
