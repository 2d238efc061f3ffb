// Album names are unique per creator, not system-wide: alice and bob may both
// have a "trip". An album's canonical name (the key everything else uses:
// sessions, hand-offs, ratings, the store) is its name when no album had that
// name before, and `<creator>/<name>` otherwise, so albums created before
// this rule keep their canonical names and existing databases keep working.
// People refer to an album by its name, or by `creator/name` when two albums
// they can see share it; this resolves what they typed to the canonical name.
// Must never reveal more than "ambiguous" about albums the user cannot see.
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import type { CentralStore } from "./central-store.ts";

/** The name people see: the canonical name without its `creator/`. */
export function displayName(canonical: string): string {
  const slash = canonical.indexOf("/");
  return slash < 0 ? canonical : canonical.slice(slash + 1);
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The canonical name for `creator`'s new album `name`; refuses a second album of that name by them. */
export function canonicalNameForNew(store: CentralStore, creator: string, name: string): string {
  const existing = store.albumsNamed(name);
  if (existing.some((album) => same(album.createdBy, creator))) {
    throw new AlbumError(ErrorCode.AlreadyExists, `you already have an album named '${name}'`);
  }
  return existing.length === 0 ? name : `${creator}/${name}`;
}

/**
 * The canonical name `reference` means for `user`: among the albums they are
 * a member of first (`name` or `creator/name`), then among all albums (so a
 * non-member gets "not a member" rather than "no such album"). A reference
 * matching nothing is returned as given; the caller's lookup then fails.
 */
export function resolveAlbumReference(
  store: CentralStore,
  user: string,
  reference: string,
): string {
  const slash = reference.indexOf("/");
  const name = slash < 0 ? reference : reference.slice(slash + 1);
  const creator = slash < 0 ? undefined : reference.slice(0, slash);
  const named = store
    .albumsNamed(name)
    .filter((album) => creator === undefined || same(album.createdBy, creator));
  if (named.length === 1) return named[0]!.name;
  if (named.length === 0) return reference;
  const mine = new Set(store.albumsOf(user).map((album) => album.name));
  const visible = named.filter((album) => mine.has(album.name));
  if (visible.length === 1) return visible[0]!.name;
  const choices = (visible.length > 0 ? visible : named).map(
    (album) => `${album.createdBy}/${displayName(album.name)}`,
  );
  if (visible.length === 0) {
    // Not a member of any of them: the session refuses it as for any non-member.
    return named[0]!.name;
  }
  throw new AlbumError(
    ErrorCode.InvalidArgument,
    `'${reference}' is ambiguous: ${choices.join(", ")}; say which (getAlbum <creator>/<name>)`,
  );
}
