// The local operations of an editor. Each checks its arguments against the
// local replica, builds a small delta stamped with fresh dots of the editor's
// session slot, joins it into the replica (mutating it) and returns the delta
// to send to the other editors. Errors are AlbumErrors; a refused operation
// leaves the replica unchanged.
import {
  AlbumError,
  ErrorCode,
  failedPrecondition,
  notFound,
  permissionDenied,
} from "../common/album-error.ts";
import { contextAdd, highestInContext, isContiguous } from "./causal-context.ts";
import {
  counterOf,
  dotKey,
  isEditorSlot,
  MAX_COUNTER,
  MAX_SLOT,
  type DotKey,
  type SessionSlot,
} from "./dot.ts";
import {
  emptyState,
  putFile,
  putMember,
  putRating,
  putRemoval,
  ratingKey,
  type AlbumDelta,
  type AlbumState,
  type FileEntry,
  type Removal,
} from "./album-state.ts";
import { mergeInto } from "./album-join.ts";
import { entriesNamed, requireFile } from "./album-files.ts";
import {
  checkContentKey,
  checkFileName,
  checkSize,
  checkStars,
  checkUserName,
} from "./album-names.ts";
import { fileMediaProblem, type FileMedia } from "./file-media.ts";
import { isWitnessFallback, listMembers, memberDots } from "./album-members.ts";

/** Who performs an operation: the editor's session slot and user name. */
export interface EditorContext {
  readonly slot: SessionSlot;
  readonly user: string;
}

export interface NewFile {
  readonly name: string;
  /** SHA-256 of the content, 64 hex digits. */
  readonly contentKey: string;
  readonly size: number;
  /** Renditions and metadata the adder made (checked here: a peer may send anything). */
  readonly media?: FileMedia;
}

/** Adds a file under `name`. Refused if a file of that name is already listed. */
export function addFile(state: AlbumState, editor: EditorContext, file: NewFile): AlbumDelta {
  const name = checkFileName(file.name);
  const contentKey = checkContentKey(file.contentKey);
  const size = checkSize(file.size);
  const builder = new DeltaBuilder(state, editor);
  const existing = entriesNamed(state, name);
  if (existing.has(contentKey)) {
    throw new AlbumError(
      ErrorCode.AlreadyExists,
      `'${name}' is already in the album with this content`,
    );
  }
  if (existing.size > 0) {
    throw new AlbumError(
      ErrorCode.AlreadyExists,
      `a file named '${name}' is already in the album; remove it first or rename yours`,
    );
  }
  const entry: FileEntry = {
    name,
    contentKey,
    size,
    addedBy: editor.user,
    epochAdded: state.epoch,
    ...(file.media ? { media: checkMedia(file.media) } : {}),
  };
  putFile(builder.delta, builder.newDot(), entry);
  return builder.commit();
}

function checkMedia(media: FileMedia): FileMedia {
  const problem = fileMediaProblem(media);
  if (problem !== undefined) throw new AlbumError(ErrorCode.InvalidArgument, problem);
  return media;
}

/** Removes the listed file `displayName` (every add of it this replica has seen). */
export function removeFile(
  state: AlbumState,
  editor: EditorContext,
  displayName: string,
): AlbumDelta {
  const builder = new DeltaBuilder(state, editor);
  const file = requireFile(state, displayName);
  putRemoval(builder.delta, builder.newDot(), { removed: [...file.dots] });
  return builder.commit();
}

/** Rates the listed file `displayName` with 0-5 stars. The caller has checked "once per user". */
export function rateFile(
  state: AlbumState,
  editor: EditorContext,
  displayName: string,
  stars: number,
): AlbumDelta {
  checkStars(stars);
  const builder = new DeltaBuilder(state, editor);
  const file = requireFile(state, displayName);
  const previous = state.ratings.get(ratingKey(file.fileId, editor.slot));
  const dot = builder.newDot();
  putRating(builder.delta, {
    fileId: file.fileId,
    slot: editor.slot,
    counter: counterOf(dot),
    sum: (previous?.sum ?? 0) + stars,
    count: (previous?.count ?? 0) + 1,
  });
  return builder.commit();
}

/** Adds `user` to the group (the caller has checked that the user exists). */
export function addMember(state: AlbumState, editor: EditorContext, user: string): AlbumDelta {
  checkUserName(user);
  const builder = new DeltaBuilder(state, editor);
  if (listMembers(state).includes(user)) {
    throw new AlbumError(ErrorCode.AlreadyExists, `${user} is already a member of the album`);
  }
  builder.materializeWitnessFallback();
  putMember(builder.delta, builder.newDot(), user);
  return builder.commit();
}

/** Removes `user` from the group. The last member cannot be removed. */
export function removeMember(state: AlbumState, editor: EditorContext, user: string): AlbumDelta {
  const builder = new DeltaBuilder(state, editor);
  const members = listMembers(state);
  if (!members.includes(user)) throw notFound(`${user} is not a member of the album`);
  if (members.length === 1) {
    throw failedPrecondition(`${user} is the last member of the album and cannot be removed`);
  }
  const dots = builder.materializeWitnessFallback().get(user) ?? memberDots(state, user);
  // Someone the remover expects to stay: itself, or the first other member.
  const witness = user !== editor.user ? editor.user : members.find((name) => name !== user)!;
  const removal: Removal = { removed: dots, witness };
  putRemoval(builder.delta, builder.newDot(), removal);
  return builder.commit();
}

// Allocates the editor's next dots and accumulates one delta.
class DeltaBuilder {
  readonly delta: AlbumState;
  private nextCounter: number;

  constructor(
    private readonly state: AlbumState,
    private readonly editor: EditorContext,
  ) {
    if (!isEditorSlot(editor.slot)) {
      throw new AlbumError(
        ErrorCode.InvalidArgument,
        `session slot must be 1 to ${MAX_SLOT}, not ${editor.slot}`,
      );
    }
    if (!listMembers(state).includes(editor.user)) {
      throw permissionDenied(`${editor.user} is not a member of the album`);
    }
    // A gap in our own slot means the replica does not hold the slot's whole
    // history (e.g. a reused slot without the previous holder's state): a new
    // dot could then collide with one already used.
    if (!isContiguous(state.causal, editor.slot)) {
      throw failedPrecondition(
        `replica lacks part of the history of session slot ${editor.slot}; merge the central server's copy first`,
      );
    }
    this.nextCounter = highestInContext(state.causal, editor.slot) + 1;
    this.delta = emptyState(state.epoch);
  }

  newDot(): DotKey {
    if (this.nextCounter > MAX_COUNTER) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        `session slot ${this.editor.slot} has no counters left`,
      );
    }
    const key = dotKey(this.editor.slot, this.nextCounter++);
    contextAdd(this.delta.causal, key);
    return key;
  }

  /**
   * When concurrent removals emptied the group and it shows the witnesses,
   * a membership change first re-adds them for real, so that it does not make
   * them vanish. Returns the new dots by name.
   */
  materializeWitnessFallback(): Map<string, DotKey[]> {
    const added = new Map<string, DotKey[]>();
    if (!isWitnessFallback(this.state)) return added;
    for (const name of listMembers(this.state)) {
      const key = this.newDot();
      putMember(this.delta, key, name);
      added.set(name, [key]);
    }
    return added;
  }

  commit(): AlbumDelta {
    mergeInto(this.state, this.delta);
    return this.delta;
  }
}
