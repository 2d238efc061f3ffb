// The rules for user names, album names and passwords, shared by the server
// (which enforces them) and the client (which checks early for a nicer error).
import { invalidArgument } from "../common/album-error.ts";

const NAME_CHARACTERS = /^[A-Za-z0-9._-]+$/;
export const MAX_USER_NAME = 32;
export const MAX_ALBUM_NAME = 64;
export const MIN_PASSWORD = 8;
// Bounded so nobody can make the server hash megabytes per login attempt.
export const MAX_PASSWORD = 256;

function checkName(kind: string, value: string, max: number): string {
  if (value.length < 1 || value.length > max) {
    throw invalidArgument(`${kind} must be 1 to ${max} characters long`);
  }
  if (!NAME_CHARACTERS.test(value)) {
    throw invalidArgument(`${kind} '${value}' may only contain letters, digits, '.', '_' and '-'`);
  }
  return value;
}

export const checkUserName = (value: string): string =>
  checkName("user name", value, MAX_USER_NAME);
/**
 * Album names are what people write: spaces and letters of any language,
 * 1 to 64 characters, no control or invisible formatting characters (they
 * could disguise a name on a terminal), no slashes (`creator/name` refers to
 * an album), no spaces at either end. Unique per creator (album-reference.ts).
 */
export function checkAlbumName(typed: string): string {
  // One spelling per name, whichever way the keyboard composed its letters.
  const value = typed.normalize("NFC");
  const length = [...value].length;
  if (length < 1 || length > MAX_ALBUM_NAME) {
    throw invalidArgument(`album name must be 1 to ${MAX_ALBUM_NAME} characters long`);
  }
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value)) {
    throw invalidArgument("album name must not contain control or invisible characters");
  }
  if (/[/\\]/.test(value)) {
    throw invalidArgument(
      `album name '${value}' must not contain '/' or '\\' ('creator/name' refers to another's album)`,
    );
  }
  if (value.trim() !== value) {
    throw invalidArgument("album name must not start or end with a space");
  }
  return value;
}

/** An album as a request names it: its name, or `creator/name`. */
export function checkAlbumReference(value: string): string {
  const slash = value.indexOf("/");
  if (slash < 0) return checkAlbumName(value);
  return `${checkUserName(value.slice(0, slash))}/${checkAlbumName(value.slice(slash + 1))}`;
}

export function checkPassword(value: string): string {
  const length = [...value].length;
  if (length < MIN_PASSWORD)
    throw invalidArgument(`password must have at least ${MIN_PASSWORD} characters`);
  if (Buffer.byteLength(value) > MAX_PASSWORD) {
    throw invalidArgument(`password must be at most ${MAX_PASSWORD} bytes`);
  }
  return value;
}
