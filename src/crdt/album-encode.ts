// Writes replicas, deltas and causal contexts in their canonical wire form
// (see album-codec.ts): fields in number order, defaults left out, lists
// sorted, names prefix-compressed, users in one table. Equal replicas give
// equal bytes. It never validates: what it is given came from the operations.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { CausalContext } from "./causal-context.ts";
import { ascending, BASE_SLOT, counterOf, slotOf, type DotKey } from "./dot.ts";
import type { AlbumDelta, AlbumState } from "./album-state.ts";
import { byCodeUnits } from "./album-members.ts";
import type { AlbumContext } from "./album-sync.ts";
import { writeFileMedia } from "./file-media.ts";
import {
  byFileAndSlot,
  CAUSAL,
  CONTEXT,
  DOT,
  FILE,
  MEMBER,
  RATING,
  REMOVAL,
  sharedPrefix,
  STATE,
} from "./album-wire.ts";

export function encodeState(state: AlbumState): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(STATE.epoch, WireType.Bit32).fixed32(state.epoch);
  writeCausal(writer, STATE.causal, state.causal);

  const users = userTable(state);
  const userIndex = new Map(users.map((name, index) => [name, index]));
  for (const name of users) writer.tag(STATE.users, WireType.LengthDelimited).string(name);

  for (const key of [...state.members.keys()].sort(ascending)) {
    writer.tag(STATE.members, WireType.LengthDelimited).fork();
    writeDotFields(writer, key);
    writeUint(writer, MEMBER.user, userIndex.get(state.members.get(key)!)!);
    writer.join();
  }

  let previousName = "";
  for (const key of [...state.files.keys()].sort(ascending)) {
    const entry = state.files.get(key)!;
    const prefix = sharedPrefix(previousName, entry.name);
    previousName = entry.name;
    writer.tag(STATE.files, WireType.LengthDelimited).fork();
    writeDotFields(writer, key);
    writeUint(writer, FILE.namePrefix, prefix);
    if (prefix < entry.name.length) {
      writer.tag(FILE.nameSuffix, WireType.LengthDelimited).string(entry.name.slice(prefix));
    }
    writer.tag(FILE.contentKey, WireType.LengthDelimited).bytes(hexToBytes(entry.contentKey));
    if (entry.size !== 0) writer.tag(FILE.size, WireType.Varint).uint64(entry.size);
    writeUint(writer, FILE.addedBy, userIndex.get(entry.addedBy)!);
    if (slotOf(key) === BASE_SLOT) writeUint(writer, FILE.epochAdded, entry.epochAdded);
    if (entry.baseRating) {
      writer.tag(FILE.ratingSum, WireType.Varint).uint64(entry.baseRating.sum);
      writer.tag(FILE.ratingCount, WireType.Varint).uint64(entry.baseRating.count);
    }
    if (entry.media) writeFileMedia(writer, FILE.media, entry.media);
    writer.join();
  }

  for (const key of [...state.removals.keys()].sort(ascending)) {
    const removal = state.removals.get(key)!;
    writer.tag(STATE.removals, WireType.LengthDelimited).fork();
    writeDotFields(writer, key);
    for (const removed of [...removal.removed].sort(ascending)) {
      writer.tag(REMOVAL.removed, WireType.LengthDelimited).fork();
      writeDotFields(writer, removed);
      writer.join();
    }
    if (removal.witness !== undefined)
      writeUint(writer, REMOVAL.witness, userIndex.get(removal.witness)! + 1);
    writer.join();
  }

  for (const rating of [...state.ratings.values()].sort(byFileAndSlot)) {
    writer.tag(STATE.ratings, WireType.LengthDelimited).fork();
    const fileId = BigInt(`0x${rating.fileId}`);
    if (fileId !== 0n) writer.tag(RATING.fileId, WireType.Bit64).fixed64(fileId);
    writeUint(writer, RATING.slot, rating.slot);
    writeUint(writer, RATING.counter, rating.counter);
    writeUint(writer, RATING.sum, rating.sum);
    writeUint(writer, RATING.count, rating.count);
    writer.join();
  }
  return writer.finish();
}

/** Deltas are states: same message, same rules. */
export const encodeDelta: (delta: AlbumDelta) => Uint8Array = encodeState;

export function encodeContext(context: AlbumContext): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(CONTEXT.epoch, WireType.Bit32).fixed32(context.epoch);
  writeCausal(writer, CONTEXT.causal, context.causal);
  return writer.finish();
}

function writeUint(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Varint).uint32(value);
}

function writeDotFields(writer: BinaryWriter, key: DotKey): void {
  writeUint(writer, DOT.slot, slotOf(key));
  writeUint(writer, DOT.counter, counterOf(key));
}

// An empty context is left out, so a freshly compacted state carries no causal bytes.
function writeCausal(writer: BinaryWriter, field: number, context: CausalContext): void {
  if (context.versionVector.size === 0 && context.cloud.size === 0) return;
  writer.tag(field, WireType.LengthDelimited).fork();
  for (const slot of [...context.versionVector.keys()].sort(ascending)) {
    writer.tag(CAUSAL.versionVector, WireType.LengthDelimited).fork();
    writeUint(writer, DOT.slot, slot);
    writeUint(writer, DOT.counter, context.versionVector.get(slot)!);
    writer.join();
  }
  for (const key of [...context.cloud].sort(ascending)) {
    writer.tag(CAUSAL.cloud, WireType.LengthDelimited).fork();
    writeDotFields(writer, key);
    writer.join();
  }
  writer.join();
}

function userTable(state: AlbumState): string[] {
  const users = new Set<string>(state.members.values());
  for (const entry of state.files.values()) users.add(entry.addedBy);
  for (const removal of state.removals.values()) {
    if (removal.witness !== undefined) users.add(removal.witness);
  }
  return [...users].sort(byCodeUnits);
}

function hexToBytes(hex: string): Uint8Array {
  return Buffer.from(hex, "hex");
}
