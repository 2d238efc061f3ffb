// What a page sees of an album: plain JSON built from the editing session,
// with files identified by FileId (a hash of epoch, name and content key,
// which reveals no key). Content keys never enter this view: every field is
// picked by hand, never spread from a file entry. Pure.
import type { AlbumFile } from "../crdt/index.ts";
import type { AlbumView, EditorView, FileView } from "./live-types.ts";
import { mediaKindOf } from "./media-kind.ts";

export type { AlbumView, FileView };

export interface AlbumViewSource {
  album: string;
  user: string;
  slot: number;
  members(): readonly string[];
  editors(): EditorView[];
  filesInDetail(): readonly AlbumFile[];
  hasRated(fileId: string): boolean;
}

/** `versionOf`: the version tag of a file's pictures (rendition-tag.ts). */
export function albumView(
  source: AlbumViewSource,
  myStars: ReadonlyMap<string, number>,
  versionOf: (file: AlbumFile) => string,
): AlbumView {
  const editors = [{ user: source.user, slot: source.slot }, ...source.editors()].sort(
    (a, b) => a.slot - b.slot,
  );
  return {
    name: source.album,
    me: source.user,
    slot: source.slot,
    members: [...source.members()],
    editors,
    files: source.filesInDetail().map((file) => fileView(file, source, myStars, versionOf(file))),
  };
}

function fileView(
  file: AlbumFile,
  source: AlbumViewSource,
  myStars: ReadonlyMap<string, number>,
  version: string,
): FileView {
  const media = file.media;
  const kind = media?.kind ?? mediaKindOf(file.name);
  return {
    id: file.fileId,
    name: file.displayName,
    addedBy: file.addedBy,
    size: file.size,
    average: file.average,
    ratings: file.ratingCount,
    rated: source.hasRated(file.fileId),
    myStars: myStars.get(file.fileId) ?? null,
    kind,
    version,
    // Images added without renditions are shown from the original.
    thumbnail: media?.thumbnailKey !== undefined || kind === "image",
    preview: media?.previewKey !== undefined || kind === "image",
    width: media?.width ?? null,
    height: media?.height ?? null,
    takenAt: media?.takenAt ?? null,
    addedAt: media?.addedAt ?? null,
  };
}
