// What a page may see of an album the moment the central server's replica
// has arrived, while the editing session is still opening (binding its peer
// endpoint, announcing it, syncing from the other editors): the files,
// members and editors of that replica, decoded once. The central server gave
// it to this user after checking the membership, so showing it (and serving
// its renditions) is what the open session would do a moment later; the
// peers' newest changes follow as an ordinary update. It is read-only:
// nothing here ever changes an album or acts for the user, and it never
// hands out a content key (the view is built by album-view.ts).
import type { OpenedAlbum } from "../client/central-client.ts";
import type { SessionCentral } from "../client/session/session-central.ts";
import { decodeState, listFiles, listMembers, type AlbumFile } from "../crdt/index.ts";
import type { AlbumViewSource } from "./album-view.ts";
import type { EditorView } from "./live-types.ts";

/** The central server's replica of an album being opened, as a view source. */
export class EarlyAlbum implements AlbumViewSource {
  readonly album: string;
  readonly user: string;
  readonly slot: number;
  readonly #files: readonly AlbumFile[];
  readonly #members: readonly string[];
  readonly #editors: EditorView[];
  readonly #rated: ReadonlySet<string>;

  constructor(opened: OpenedAlbum, user: string) {
    const state = decodeState(opened.replica);
    this.album = opened.album;
    this.user = user;
    this.slot = opened.slot;
    this.#files = listFiles(state);
    this.#members = listMembers(state);
    this.#editors = opened.editors
      .filter((editor) => editor.slot !== opened.slot)
      .map(({ slot, user: editor }) => ({ slot, user: editor }));
    this.#rated = new Set(opened.ratedFileIds);
  }

  members(): readonly string[] {
    return this.#members;
  }

  editors(): EditorView[] {
    return this.#editors;
  }

  filesInDetail(): readonly AlbumFile[] {
    return this.#files;
  }

  hasRated(fileId: string): boolean {
    return this.#rated.has(fileId);
  }
}

/**
 * The same central connection, except that a successful getAlbum also hands
 * its reply to `onOpened`, and the session goes on opening once that has
 * settled. Everything else reaches the connection itself (its private state
 * included: methods are bound to it), so the session behaves exactly as with
 * the plain one.
 */
export function tapGetAlbum(
  central: SessionCentral,
  onOpened: (opened: OpenedAlbum) => Promise<void>,
): SessionCentral {
  const getAlbum: SessionCentral["getAlbum"] = async (album, peerPublicKey) => {
    const opened = await central.getAlbum(album, peerPublicKey);
    // Best effort: a replica that does not decode fails the open itself, with its own error.
    await onOpened(opened).catch(() => {});
    return opened;
  };
  return new Proxy(central, {
    get(target, property) {
      if (property === "getAlbum") return getAlbum;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
}
