// What the replica accepts as user names, file names, content keys, sizes and
// ratings. Checked on every local operation and on every decoded state, so a
// replica never holds a value the rest of the system cannot display or use.
// User names follow the central server's rules (1-32 of letters, digits, . _ -).
import { invalidArgument } from "../common/album-error.ts";

export const MAX_USER_NAME = 32;
export const MAX_FILE_NAME_BYTES = 255;
export const MIN_STARS = 0;
export const MAX_STARS = 5;

const USER_NAME = /^[A-Za-z0-9._-]{1,32}$/;
const CONTENT_KEY = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /\p{Cs}/u;
const PLAIN_ASCII = /^[\u0020-\u007e]*$/;

export const isUserName = (name: string): boolean => USER_NAME.test(name);

export function checkUserName(name: string): string {
  if (!isUserName(name)) {
    throw invalidArgument(
      `user name '${printable(name)}' must be 1 to ${MAX_USER_NAME} letters, digits, '.', '_' or '-'`,
    );
  }
  return name;
}

/** Why a file name is unacceptable, or undefined if it is fine. */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return "file name is empty";
  if (Buffer.byteLength(name, "utf8") > MAX_FILE_NAME_BYTES) {
    return `file name is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  }
  if (name === "." || name === "..") return `'${name}' is not a file name`;
  if (name.includes("/")) return `file name '${printable(name)}' contains '/'`;
  if (CONTROL.test(name)) return `file name '${printable(name)}' contains a control character`;
  if (PLAIN_ASCII.test(name)) return undefined; // the common case: nothing else to check
  if (LONE_SURROGATE.test(name)) return "file name is not valid Unicode text";
  // Canonical form, so that equal names encode to equal bytes on every replica.
  if (name !== name.normalize("NFC")) return `file name '${printable(name)}' is not in NFC form`;
  return undefined;
}

/** Checks a file name given by a person and returns its canonical (NFC) form. */
export function checkFileName(name: string): string {
  const canonical = LONE_SURROGATE.test(name) ? name : name.normalize("NFC");
  const problem = fileNameProblem(canonical);
  if (problem) throw invalidArgument(problem);
  return canonical;
}

export const isContentKey = (key: string): boolean => CONTENT_KEY.test(key);

/** Accepts upper or lower case hex; returns lower case. The key itself is never echoed. */
export function checkContentKey(key: string): string {
  const lower = key.toLowerCase();
  if (!isContentKey(lower)) throw invalidArgument("content key must be 64 hexadecimal digits");
  return lower;
}

export function checkSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw invalidArgument(`file size ${size} is not a non-negative integer`);
  }
  return size;
}

export function checkStars(stars: number): number {
  if (!Number.isInteger(stars) || stars < MIN_STARS || stars > MAX_STARS) {
    throw invalidArgument(
      `rating must be an integer from ${MIN_STARS} to ${MAX_STARS}, not ${stars}`,
    );
  }
  return stars;
}

// Names in error messages: bounded and without control characters.
function printable(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?"); // eslint-disable-line no-control-regex
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
