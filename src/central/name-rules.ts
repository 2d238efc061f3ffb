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
export const checkAlbumName = (value: string): string =>
  checkName("album name", value, MAX_ALBUM_NAME);

export function checkPassword(value: string): string {
  const length = [...value].length;
  if (length < MIN_PASSWORD)
    throw invalidArgument(`password must have at least ${MIN_PASSWORD} characters`);
  if (Buffer.byteLength(value) > MAX_PASSWORD) {
    throw invalidArgument(`password must be at most ${MAX_PASSWORD} bytes`);
  }
  return value;
}
