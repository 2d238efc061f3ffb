// What the central server vouches for about the editors of open sessions:
// each session's token and the peer public key recorded with each slot
// (SessionTrust, kept in the store too, so a restarted server vouches for the
// same keys), and the editors as the others are told of them, each with its
// key. EditingSessions owns one. It never invents a key: an editor whose slot
// has none recorded is vouched for with an empty one, which no mesh admits.
import type { Notification, SessionEditor } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { CentralStore } from "../central-store.ts";
import type { ConnectionState } from "../handler-context.ts";
import type { OpenSession } from "./open-session.ts";
import type { SlotHolder } from "./session-slots.ts";
import { TrustStore, type SessionTrust } from "./session-trust.ts";
import { editorJoined, toWireEditor } from "./session-wire.ts";

type Holder = SlotHolder<ConnectionState>;

export class SessionVouching {
  readonly #store: TrustStore;
  /** Token and keys of each open session, loaded once per session. */
  readonly #trust = new Map<OpenSession, SessionTrust>();

  constructor(store: CentralStore) {
    this.#store = new TrustStore(store);
  }

  /** The session's token and keys: made at its start, or read back after a restart. */
  trustOf(session: OpenSession): SessionTrust {
    let trust = this.#trust.get(session);
    if (!trust) {
      trust = this.#store.load(session.album, session.state.epoch);
      this.#trust.set(session, trust);
    }
    return trust;
  }

  /** The other editors with an endpoint, as `holder` is told of them. */
  othersOf(session: OpenSession, holder: Holder): SessionEditor[] {
    return session.slots
      .holders()
      .filter((other) => other !== holder && other.address !== undefined)
      .map((other) => this.vouched(session, other));
  }

  /** An editor as the others are told of it: with the public key recorded for its slot. */
  vouched(session: OpenSession, holder: Holder): SessionEditor {
    const editor = toWireEditor(holder);
    editor.publicKey = this.trustOf(session).keyOf(holder.slot) ?? new Uint8Array(0);
    return editor;
  }

  /** The notice that `holder` joined (or came back), with its key. */
  joinedNotice(session: OpenSession, holder: Holder): Notification["body"] {
    const notice = editorJoined(session, holder);
    if (notice.case === "editorJoined") notice.value.editor = this.vouched(session, holder);
    return notice;
  }

  /** The session ended: its token and keys are forgotten. */
  end(session: OpenSession): void {
    this.trustOf(session).end();
    this.#trust.delete(session);
  }
}
