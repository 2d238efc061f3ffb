// One editor's replica of an album during an editing session: the CRDT state,
// the editor's slot and name, local operations that return the delta to
// spread, and the ReplicaPort the peer engine uses for remote deltas and
// anti-entropy. It also keeps every change (local or remote) the central
// server has not acknowledged yet, joined into one delta, so a hand-off costs
// the size of the changes, never a walk over the album. Remote deltas are
// checked against what the central server vouched for (slots that exist,
// rate-once tallies) before they are merged. Pure: no sockets, no timers;
// the session (album-session.ts) drives it.
import {
  addFile,
  addMember,
  causalContextOf,
  decodeContext,
  decodeDelta,
  decodeState,
  encodeContext,
  findFile,
  hasFileNamed,
  encodeDelta,
  encodeState,
  listFiles,
  listMembers,
  mergeInto,
  missingFrom,
  rateFile,
  removeFile,
  removeMember,
  requireFile,
  describeReplica,
  type AlbumDelta,
  type AlbumFile,
  type AlbumState,
  type EditorContext,
  type NewFile,
} from "../../crdt/index.ts";
import { contextHas, type CausalContext } from "../../crdt/causal-context.ts";
import { dotKey } from "../../crdt/dot.ts";
import { emptyState } from "../../crdt/album-state.ts";
import { auditDelta, type AuditRules } from "../../crdt/delta-audit.ts";
import { invalidArgument } from "../../common/album-error.ts";
import type { ReplicaPort } from "../../peer/replica-port.ts";

/** A local change: the delta to broadcast to the peers. */
export interface LocalChange {
  readonly delta: Uint8Array;
}

export class EditorReplica implements ReplicaPort {
  readonly editor: EditorContext;
  #state: AlbumState;
  /**
   * Every change since the last prepared hand-off, joined (local and remote
   * deltas alike): what the central server may lack. Its size is that of the
   * changes, not of the album.
   */
  #pending: AlbumDelta | undefined;
  /** Prepared hand-offs not yet acknowledged; sent again until one is. */
  #unacknowledged: { version: number; delta: AlbumDelta }[] = [];
  /** Bumped by every change, local or remote: which changes a receipt covers. */
  #version = 0;

  readonly #rules: AuditRules | undefined;

  /** Called after every change, local or remote (the web app's live view listens). */
  readonly #onChange: (() => void) | undefined;

  /**
   * `rules`: what remote deltas are checked against (none: every well-formed
   * delta is merged); `onChange`: called after every change.
   */
  constructor(
    encodedServerState: Uint8Array,
    editor: EditorContext,
    rules?: AuditRules,
    onChange?: () => void,
  ) {
    this.#state = decodeState(encodedServerState);
    this.editor = editor;
    this.#rules = rules;
    this.#onChange = onChange;
  }

  get state(): AlbumState {
    return this.#state;
  }

  get epoch(): number {
    return this.#state.epoch;
  }

  // ---- ReplicaPort --------------------------------------------------------------

  applyRemote(encodedDelta: Uint8Array): void {
    const delta = decodeDelta(encodedDelta);
    const forged = this.#rules && auditDelta(this.#state, delta, this.#rules);
    if (forged) throw invalidArgument(`remote delta refused: ${forged}`);
    mergeInto(this.#state, delta);
    this.#remember(delta);
  }

  encodedContext(): Uint8Array {
    return encodeContext(causalContextOf(this.#state));
  }

  encodedMissingFor(encodedRemoteContext: Uint8Array): Uint8Array | undefined {
    const remote = decodeContext(encodedRemoteContext);
    if (covers(remote.causal, this.#state.causal) && remote.epoch === this.#state.epoch) {
      return undefined;
    }
    return encodeDelta(missingFrom(this.#state, remote));
  }

  // ---- local operations (each returns the delta to spread) ----------------------

  addFile(file: NewFile): Uint8Array {
    return this.#commit(addFile(this.#state, this.editor, file));
  }

  removeFile(displayName: string): Uint8Array {
    return this.#commit(removeFile(this.#state, this.editor, displayName));
  }

  rateFile(displayName: string, stars: number): Uint8Array {
    return this.#commit(rateFile(this.#state, this.editor, displayName, stars));
  }

  addMember(user: string): Uint8Array {
    return this.#commit(addMember(this.#state, this.editor, user));
  }

  removeMember(user: string): Uint8Array {
    return this.#commit(removeMember(this.#state, this.editor, user));
  }

  // ---- reads -----------------------------------------------------------------

  files(): readonly AlbumFile[] {
    return listFiles(this.#state);
  }

  file(displayName: string): AlbumFile {
    return requireFile(this.#state, displayName);
  }

  findFile(displayName: string): AlbumFile | undefined {
    return findFile(this.#state, displayName);
  }

  /** True when some listed file was added under exactly this name. */
  hasFileNamed(name: string): boolean {
    return hasFileNamed(this.#state, name);
  }

  members(): readonly string[] {
    return listMembers(this.#state);
  }

  describe(): string {
    return describeReplica(this.#state);
  }

  // ---- hand-off to the central server ------------------------------------------

  /** True when something changed since the last acknowledged hand-off. */
  get hasUnhandedChanges(): boolean {
    return this.#pending !== undefined || this.#unacknowledged.length > 0;
  }

  /**
   * What the server may lack: every change not covered by an acknowledged
   * hand-off (a lost hand-off is simply included again), plus a receipt to
   * pass to acknowledgeHandOff once the server confirmed it.
   */
  prepareHandOff(): { delta: Uint8Array; receipt: HandOffReceipt } {
    if (this.#pending) {
      this.#unacknowledged.push({ version: this.#version, delta: this.#pending });
      this.#pending = undefined;
    }
    const combined = emptyState(this.#state.epoch);
    for (const { delta } of this.#unacknowledged) mergeInto(combined, delta);
    return { delta: encodeDelta(combined), receipt: { version: this.#version } };
  }

  acknowledgeHandOff(receipt: HandOffReceipt): void {
    this.#unacknowledged = this.#unacknowledged.filter((entry) => entry.version > receipt.version);
  }

  /** The whole replica, for putAlbum. */
  encodedState(): Uint8Array {
    return encodeState(this.#state);
  }

  #commit(delta: AlbumDelta): Uint8Array {
    this.#remember(delta);
    return encodeDelta(delta);
  }

  #remember(delta: AlbumDelta): void {
    this.#version++;
    this.#pending ??= emptyState(this.#state.epoch);
    mergeInto(this.#pending, delta);
    this.#onChange?.();
  }
}

export interface HandOffReceipt {
  readonly version: number;
}

/** True when `remote` has seen every dot `local` has. */
function covers(remote: CausalContext, local: CausalContext): boolean {
  for (const [slot, counter] of local.versionVector) {
    for (let next = (remote.versionVector.get(slot) ?? 0) + 1; next <= counter; next++) {
      if (!contextHas(remote, dotKey(slot, next))) return false;
    }
  }
  for (const key of local.cloud) if (!contextHas(remote, key)) return false;
  return true;
}
