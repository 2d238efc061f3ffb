// The other editors of one editing session as this editor knows them — only
// from the central server (getAlbum, its notices, a resume reply), never from
// a peer — and what the server vouched for about the session (slots that
// exist, rate-once tallies). It turns each notice into the actions it calls
// for: connect to a newcomer, drop one that left (cutting a removed member's
// connections), tell the person, or end our own session. Pure bookkeeping
// for the album-session core.
import {
  LeaveReason,
  type EditorLeft,
  type Notification,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { PeerAddress } from "../../peer/index.ts";
import type { SessionEditorInfo } from "../central-client.ts";
import type { LeaveKind, SessionAction, SessionEditorView } from "./session-actions.ts";
import type { VouchedFacts } from "./vouched-facts.ts";

export interface NoticeOutcome {
  readonly actions: SessionAction[];
  /** Set when the notice ends our own session: why. */
  readonly end?: string;
}

export class SessionRoster {
  readonly #album: string;
  readonly #slot: number;
  readonly #user: string;
  readonly #facts: VouchedFacts;
  readonly #editors = new Map<number, PeerAddress>();

  constructor(
    own: { album: string; slot: number; user: string },
    facts: VouchedFacts,
    initial: readonly SessionEditorInfo[],
  ) {
    this.#album = own.album;
    this.#slot = own.slot;
    this.#user = own.user;
    this.#facts = facts;
    for (const { slot, user, address, publicKey } of initial) {
      if (slot !== own.slot) this.#editors.set(slot, { slot, user, address, publicKey });
    }
  }

  /** The other editors, as the peer engine must know them. */
  peers(): PeerAddress[] {
    return [...this.#editors.values()];
  }

  peer(slot: number): PeerAddress | undefined {
    return this.#editors.get(slot);
  }

  /** The other editors, by slot. */
  editors(): SessionEditorView[] {
    return [...this.#editors.values()]
      .map(({ slot, user }) => ({ slot, user }))
      .sort((a, b) => a.slot - b.slot);
  }

  /** What a notice of the central server calls for (notices of other albums call for nothing). */
  notice(notification: Notification): NoticeOutcome {
    const body = notification.body;
    switch (body.case) {
      case "editorJoined":
        if (body.value.album !== this.#album || !body.value.editor) break;
        return { actions: this.joined(body.value.editor) };
      case "editorLeft":
        if (body.value.album !== this.#album) break;
        return this.#left(body.value);
      case "sessionEnded":
        if (body.value.album !== this.#album) break;
        return { actions: [], end: body.value.reason || "the central server ended the session" };
      case "ratingRecorded":
        if (body.value.album === this.#album && body.value.tally) {
          const { fileId, raters, stars } = body.value.tally;
          this.#facts.ratingRecorded(fileId, { raters, stars: Number(stars) });
        }
        break;
      default:
        break;
    }
    return { actions: [] };
  }

  /** An editor the server vouches for (a notice or a resume reply): connect; tell the person if it is news. */
  joined(editor: SessionEditorInfo): SessionAction[] {
    if (editor.slot === this.#slot) return [];
    this.#facts.slotExists(editor.slot);
    const peer: PeerAddress = {
      slot: editor.slot,
      user: editor.user,
      address: editor.address,
      publicKey: editor.publicKey,
    };
    const known = this.#editors.get(editor.slot);
    this.#editors.set(editor.slot, peer);
    const actions: SessionAction[] = [{ kind: "addPeer", peer }];
    if (!known || known.user !== editor.user || known.address !== editor.address) {
      actions.push({
        kind: "tell",
        what: { event: "editorJoined", editor: { slot: editor.slot, user: editor.user } },
      });
    }
    return actions;
  }

  /**
   * The editors the server lists after a resume: the whole truth, since the
   * notices sent while we were away are not replayed. A listed one is
   * (re)connected; one we knew that is no longer listed left meanwhile.
   */
  reconcile(listed: readonly SessionEditorInfo[]): SessionAction[] {
    const actions = listed.flatMap((editor) => this.joined(editor));
    const present = new Set(listed.map((editor) => editor.slot));
    for (const known of [...this.#editors.values()]) {
      if (present.has(known.slot)) continue;
      // Its EditorLeft was lost with the connection; why it left is not known.
      actions.push(
        ...this.#left({ slot: known.slot, user: known.user, reason: LeaveReason.LOST }).actions,
      );
    }
    return actions;
  }

  #left(left: Pick<EditorLeft, "slot" | "user" | "reason">): NoticeOutcome {
    const reason = leaveKind(left.reason);
    if (left.slot === this.#slot) {
      // Only a removal ends us; "left"/"lost" of our own slot is news of an older connection.
      return reason === "removed"
        ? { actions: [], end: `${this.#user} was removed from the album's members` }
        : { actions: [] };
    }
    const known = this.#editors.get(left.slot);
    this.#editors.delete(left.slot);
    // A removed member's key stops working at once, its open connections too.
    const actions: SessionAction[] = [
      { kind: "removePeer", slot: left.slot, revoke: reason === "removed" },
    ];
    if (known) {
      actions.push({
        kind: "tell",
        what: {
          event: "editorLeft",
          left: { slot: left.slot, user: left.user || known.user, reason },
        },
      });
    }
    return { actions };
  }
}

function leaveKind(reason: LeaveReason): LeaveKind {
  switch (reason) {
    case LeaveReason.LOST:
      return "lost";
    case LeaveReason.REMOVED:
      return "removed";
    default:
      return "left";
  }
}
