// The read side of the files: one listed file per (name, content) with live
// adds, with a display name that is the same on every replica, and the rating
// average. Display names never contain a content key: a name shared by files of
// different contents is disambiguated by who added each ("photo.jpg (alice)"),
// then by rank of FileId ("photo.jpg (alice #2)"). The content key is only
// returned as data, for downloads.
import { notFound } from "../common/album-error.ts";
import { ascending, type DotKey } from "./dot.ts";
import type { AlbumState, ContentKey, FileEntry, FileId } from "./album-state.ts";
import { byCodeUnits } from "./album-members.ts";
import { cachedView } from "./view-cache.ts";
import { fileIdOf } from "./file-id.ts";
import type { FileMedia } from "./file-media.ts";

export interface AlbumFile {
  /** Unique among the listed files; what people type. */
  readonly displayName: string;
  /** The name it was added under. */
  readonly name: string;
  readonly fileId: FileId;
  /** For downloads only: never print it. */
  readonly contentKey: ContentKey;
  readonly size: number;
  readonly addedBy: string;
  readonly ratingCount: number;
  readonly ratingSum: number;
  /** ratingSum / ratingCount, or null before the first rating. */
  readonly average: number | null;
  /** Renditions and metadata, when the adder recorded them; the keys are never to be shown. */
  readonly media?: FileMedia;
  /** The live add events behind this file, ascending (more than one after concurrent adds). */
  readonly dots: readonly DotKey[];
}

interface FileGroup {
  readonly name: string;
  readonly representative: FileEntry;
  readonly dots: DotKey[];
  label: string;
}

/** Every file of the album, sorted by display name. */
export function listFiles(state: AlbumState): readonly AlbumFile[] {
  return cachedView(state, "files", () => buildListing(state));
}

export function findFile(state: AlbumState, displayName: string): AlbumFile | undefined {
  return findUnsharedName(state, displayName) ?? findInListing(state, displayName);
}

function findInListing(state: AlbumState, displayName: string): AlbumFile | undefined {
  return cachedView(state, "filesByDisplayName", () => {
    const byName = new Map<string, AlbumFile>();
    // The listing is sorted, so a (pathological) duplicate resolves to the first.
    for (const file of listFiles(state)) {
      if (!byName.has(file.displayName)) byName.set(file.displayName, file);
    }
    return byName;
  }).get(displayName);
}

// The common case without building the listing (which costs milliseconds on
// a large album, and is rebuilt after every change): a name held by one
// content is its own display name unless it could collide with a label
// "other (adder)"; every such label ends with ")", so names that do not are
// safe. The answer is the one the listing would give.
function findUnsharedName(state: AlbumState, name: string): AlbumFile | undefined {
  if (name.endsWith(")")) return undefined;
  const groups = entriesNamed(state, name);
  if (groups.size !== 1) return undefined;
  const [dots] = groups.values();
  const group: FileGroup = {
    name,
    representative: state.files.get(dots![0]!)!,
    dots: dots!,
    label: name,
  };
  return albumFileOf(group, ratingTotalOf(state, fileIdOf(group.representative)));
}

/** findFile, or a NotFound error naming the file. */
export function requireFile(state: AlbumState, displayName: string): AlbumFile {
  const file = findFile(state, displayName);
  if (!file) throw notFound(`no file named '${displayName}' in the album`);
  return file;
}

/** True when a live file was added under exactly `name` (whatever its display name). */
export function hasFileNamed(state: AlbumState, name: string): boolean {
  return state.fileDotsByName.has(name);
}

/** The live entries under a name, grouped by content. */
export function entriesNamed(state: AlbumState, name: string): Map<ContentKey, DotKey[]> {
  const byContent = new Map<ContentKey, DotKey[]>();
  for (const key of state.fileDotsByName.get(name) ?? []) {
    const entry = state.files.get(key)!;
    const dots = byContent.get(entry.contentKey);
    if (dots) dots.push(key);
    else byContent.set(entry.contentKey, [key]);
  }
  for (const dots of byContent.values()) dots.sort(ascending);
  return byContent;
}

function buildListing(state: AlbumState): AlbumFile[] {
  const groups: FileGroup[] = [];
  for (const name of state.fileDotsByName.keys()) {
    const sameName: FileGroup[] = [];
    for (const dots of entriesNamed(state, name).values()) {
      // The oldest add (base first) speaks for the group: deterministic on every replica.
      sameName.push({ name, representative: state.files.get(dots[0]!)!, dots, label: name });
    }
    if (sameName.length > 1) labelByAdder(sameName);
    groups.push(...sameName);
  }
  separateCollisions(groups);

  const totals = ratingTotals(state);
  const files = groups.map((group) =>
    albumFileOf(group, totals.get(fileIdOf(group.representative))),
  );
  return files.sort(
    (a, b) => byCodeUnits(a.displayName, b.displayName) || byCodeUnits(a.fileId, b.fileId),
  );
}

function albumFileOf(group: FileGroup, slots: RatingTotal | undefined): AlbumFile {
  const entry = group.representative;
  const ratingSum = (entry.baseRating?.sum ?? 0) + (slots?.sum ?? 0);
  const ratingCount = (entry.baseRating?.count ?? 0) + (slots?.count ?? 0);
  return {
    displayName: group.label,
    name: group.name,
    fileId: fileIdOf(entry),
    contentKey: entry.contentKey,
    size: entry.size,
    addedBy: entry.addedBy,
    ratingCount,
    ratingSum,
    average: ratingCount === 0 ? null : ratingSum / ratingCount,
    dots: group.dots,
    ...(entry.media ? { media: entry.media } : {}),
  };
}

// Several contents under one name: "name (adder)", and "name (adder #k)" when
// one adder has several, ranked by FileId (a hash, so no content is revealed).
function labelByAdder(sameName: FileGroup[]): void {
  const byAdder = new Map<string, FileGroup[]>();
  for (const group of sameName) {
    const adder = group.representative.addedBy;
    const list = byAdder.get(adder);
    if (list) list.push(group);
    else byAdder.set(adder, [group]);
  }
  for (const [adder, list] of byAdder) {
    if (list.length === 1) {
      list[0]!.label = `${list[0]!.name} (${adder})`;
      continue;
    }
    list.sort(byIdentity);
    list.forEach((group, index) => (group.label = `${group.name} (${adder} #${index + 1})`));
  }
}

// A real name can look like a disambiguated one ("a.jpg (bob)"); rank those too.
function separateCollisions(groups: FileGroup[]): void {
  const byLabel = new Map<string, FileGroup[]>();
  for (const group of groups) {
    const list = byLabel.get(group.label);
    if (list) list.push(group);
    else byLabel.set(group.label, [group]);
  }
  for (const [label, list] of byLabel) {
    if (list.length === 1) continue;
    list.sort((a, b) => byCodeUnits(a.name, b.name) || byIdentity(a, b));
    list.forEach((group, index) => (group.label = `${label} [${index + 1}]`));
  }
}

const byIdentity = (a: FileGroup, b: FileGroup): number =>
  byCodeUnits(fileIdOf(a.representative), fileIdOf(b.representative)) || a.dots[0]! - b.dots[0]!;

interface RatingTotal {
  sum: number;
  count: number;
}

/** The session's per-slot rating aggregates of one file, summed. */
function ratingTotalOf(state: AlbumState, fileId: FileId): RatingTotal | undefined {
  let total: RatingTotal | undefined;
  for (const rating of state.ratings.values()) {
    if (rating.fileId !== fileId) continue;
    total ??= { sum: 0, count: 0 };
    total.sum += rating.sum;
    total.count += rating.count;
  }
  return total;
}

function ratingTotals(state: AlbumState): Map<FileId, RatingTotal> {
  const totals = new Map<FileId, RatingTotal>();
  for (const rating of state.ratings.values()) {
    const total = totals.get(rating.fileId);
    if (total) {
      total.sum += rating.sum;
      total.count += rating.count;
    } else {
      totals.set(rating.fileId, { sum: rating.sum, count: rating.count });
    }
  }
  return totals;
}
