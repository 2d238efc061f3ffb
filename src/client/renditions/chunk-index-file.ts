// Computes the chunk index (see common/chunk-index.ts) of a local file, by
// streaming it once: memory holds one block at most. Used when a video is
// added, so that a page can play any part of it as soon as that part is
// verified. Never changes the file.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { CHUNK_INDEX_BYTES } from "../../common/chunk-index.ts";

export async function chunkIndexOfFile(path: string): Promise<Buffer> {
  const digests: Buffer[] = [];
  let hash = createHash("sha256");
  let inBlock = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 256 * 1024,
  }) as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (rest.length > 0) {
      const take = rest.subarray(0, CHUNK_INDEX_BYTES - inBlock);
      hash.update(take);
      inBlock += take.length;
      rest = rest.subarray(take.length);
      if (inBlock === CHUNK_INDEX_BYTES) {
        digests.push(hash.digest());
        hash = createHash("sha256");
        inBlock = 0;
      }
    }
  }
  if (inBlock > 0) digests.push(hash.digest());
  return Buffer.concat(digests);
}
