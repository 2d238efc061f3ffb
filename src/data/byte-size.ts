// Sizes given by an operator ("64MiB", "1.5GB", "0", "1048576"): parsed into
// a whole number of bytes, or refused with one line naming the value. Pure.

import { invalidArgument } from "../common/album-error.ts";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Bytes in `text`, e.g. "64MiB" -> 67108864. */
export function parseByteSize(text: string, what = "size"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw invalidArgument(
      `${what} '${text.slice(0, 40)}' is not a size (use bytes or a unit: 64MiB, 2GiB, 500MB)`,
    );
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw invalidArgument(`${what} '${text}' is too large`);
  return bytes;
}
