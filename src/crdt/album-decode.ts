// Reads replicas, deltas and causal contexts from the wire, treating the
// bytes as untrusted (see album-codec.ts): anything malformed, out of range
// or non-canonical is refused with an InvalidArgument AlbumError naming the
// problem; it never yields a state the operations could not handle.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { contextHas } from "./causal-context.ts";
import {
  BASE_SLOT,
  dotKey,
  formatDot,
  isCounter,
  isEditorSlot,
  MAX_SLOT,
  slotOf,
  type DotKey,
} from "./dot.ts";
import {
  emptyState,
  putFile,
  putMember,
  putRating,
  putRemoval,
  type AlbumDelta,
  type AlbumState,
  type FileEntry,
  type SlotRating,
} from "./album-state.ts";
import { byCodeUnits } from "./album-members.ts";
import { fileNameProblem, isUserName, MAX_STARS } from "./album-names.ts";
import type { AlbumContext } from "./album-sync.ts";
import {
  byFileAndSlot,
  CONTEXT,
  MEMBER,
  RATING,
  REMOVAL,
  sharedPrefix,
  STATE,
} from "./album-wire.ts";
import {
  checker,
  expect,
  guard,
  readCausal,
  readDot,
  readFields,
  strictString,
  type Check,
} from "./album-wire-reader.ts";
import { readFile, readMediaAt } from "./album-file-reader.ts";

export const decodeState = (bytes: Uint8Array): AlbumState => decodeAlbum(bytes, "album state");
export const decodeDelta = (bytes: Uint8Array): AlbumDelta => decodeAlbum(bytes, "album delta");

export function decodeContext(bytes: Uint8Array): AlbumContext {
  const check: Check = checker("album context");
  return guard("album context", () => {
    let epoch = 0;
    let causal: Uint8Array | undefined;
    readFields(bytes, check, (field, wire, reader) => {
      if (field === CONTEXT.epoch && expect(wire, WireType.Bit32, check)) epoch = reader.fixed32();
      else if (field === CONTEXT.causal && expect(wire, WireType.LengthDelimited, check))
        causal = reader.bytes();
      else return false;
      return true;
    });
    check(epoch >= 1, "epoch must be at least 1");
    return { epoch, causal: readCausal(causal, check) };
  });
}

function decodeAlbum(bytes: Uint8Array, what: string): AlbumState {
  const check: Check = checker(what);
  return guard(what, () => {
    let epoch = 0;
    let causal: Uint8Array | undefined;
    const users: string[] = [];
    const members: Uint8Array[] = [];
    const files: Uint8Array[] = [];
    const removals: Uint8Array[] = [];
    const ratings: Uint8Array[] = [];
    readFields(bytes, check, (field, wire, reader) => {
      if (field === STATE.epoch && expect(wire, WireType.Bit32, check)) epoch = reader.fixed32();
      else if (field === STATE.causal && expect(wire, WireType.LengthDelimited, check))
        causal = reader.bytes();
      else if (field === STATE.users && expect(wire, WireType.LengthDelimited, check))
        users.push(strictString(reader));
      else if (field === STATE.members && expect(wire, WireType.LengthDelimited, check))
        members.push(reader.bytes());
      else if (field === STATE.files && expect(wire, WireType.LengthDelimited, check))
        files.push(reader.bytes());
      else if (field === STATE.removals && expect(wire, WireType.LengthDelimited, check))
        removals.push(reader.bytes());
      else if (field === STATE.ratings && expect(wire, WireType.LengthDelimited, check))
        ratings.push(reader.bytes());
      else return false;
      return true;
    });
    check(epoch >= 1, "epoch must be at least 1");
    const state = emptyState(epoch);
    const context = readCausal(causal, check);
    for (const [slot, counter] of context.versionVector)
      state.causal.versionVector.set(slot, counter);
    for (const key of context.cloud) state.causal.cloud.add(key);

    for (let i = 0; i < users.length; i++) {
      check(isUserName(users[i]!), () => `user table entry ${i} is not a user name`);
      check(
        i === 0 || byCodeUnits(users[i - 1]!, users[i]!) < 0,
        "user table is not sorted without duplicates",
      );
    }
    const referenced = new Set<number>();
    const userAt = (index: number, at: () => string): string => {
      check(index < users.length, () => `${at()} refers to user ${index} outside the user table`);
      referenced.add(index);
      return users[index]!;
    };

    // Every event dot labels one event only.
    const used = new Set<DotKey>();
    const eventDot = (
      slot: number,
      counter: number,
      kind: string,
      baseAllowed: boolean,
    ): DotKey => {
      const slotOk = (baseAllowed && slot === BASE_SLOT) || isEditorSlot(slot);
      check(slotOk && isCounter(counter), () => `${kind} dot ${slot}.${counter} out of range`);
      const key = dotKey(slot, counter);
      check(
        slot === BASE_SLOT || contextHas(state.causal, key),
        () => `${kind} ${formatDot(key)} is outside the causal context`,
      );
      check(!used.has(key), () => `dot ${formatDot(key)} labels two events`);
      used.add(key);
      return key;
    };

    let previous = -1;
    for (const bytes of removals) {
      let slot = 0;
      let counter = 0;
      let witness = 0;
      const removedDots: Uint8Array[] = [];
      readFields(bytes, check, (field, wire, reader) => {
        if (field === REMOVAL.slot && expect(wire, WireType.Varint, check)) slot = reader.uint32();
        else if (field === REMOVAL.counter && expect(wire, WireType.Varint, check))
          counter = reader.uint32();
        else if (field === REMOVAL.removed && expect(wire, WireType.LengthDelimited, check))
          removedDots.push(reader.bytes());
        else if (field === REMOVAL.witness && expect(wire, WireType.Varint, check))
          witness = reader.uint32();
        else return false;
        return true;
      });
      const key = eventDot(slot, counter, "removal", false);
      check(key > previous, "removals are not sorted");
      previous = key;
      check(removedDots.length > 0, () => `removal ${formatDot(key)} removes nothing`);
      let previousRemoved = -1;
      const removed: DotKey[] = [];
      for (const dotBytes of removedDots) {
        const dot = readDot(dotBytes, check);
        check(
          dot.slot <= MAX_SLOT && isCounter(dot.counter),
          () => `removed dot ${dot.slot}.${dot.counter} out of range`,
        );
        const removedKey = dotKey(dot.slot, dot.counter);
        check(removedKey > previousRemoved, () => `removal ${formatDot(key)} list is not sorted`);
        previousRemoved = removedKey;
        removed.push(removedKey);
      }
      if (witness === 0) putRemoval(state, key, { removed });
      else
        putRemoval(state, key, {
          removed,
          witness: userAt(witness - 1, () => `removal ${formatDot(key)}`),
        });
    }

    previous = -1;
    for (const bytes of members) {
      let slot = 0;
      let counter = 0;
      let user = 0;
      readFields(bytes, check, (field, wire, reader) => {
        if (field === MEMBER.slot && expect(wire, WireType.Varint, check)) slot = reader.uint32();
        else if (field === MEMBER.counter && expect(wire, WireType.Varint, check))
          counter = reader.uint32();
        else if (field === MEMBER.user && expect(wire, WireType.Varint, check))
          user = reader.uint32();
        else return false;
        return true;
      });
      const key = eventDot(slot, counter, "member", true);
      check(key > previous, "members are not sorted");
      previous = key;
      check(!state.removedDots.has(key), () => `member ${formatDot(key)} was removed`);
      putMember(
        state,
        key,
        userAt(user, () => `member ${formatDot(key)}`),
      );
    }

    previous = -1;
    let previousName = "";
    const fileReader = new BinaryReader(bytes);
    for (const entryBytes of files) {
      const file = readFile(fileReader, bytes, entryBytes, check);
      const key = eventDot(file.slot, file.counter, "file", true);
      const at = (): string => `file ${formatDot(key)}`;
      check(key > previous, "files are not sorted");
      previous = key;
      check(!state.removedDots.has(key), () => `${at()} was removed`);
      check(
        file.namePrefix <= previousName.length,
        () => `${at()}: name prefix longer than the previous name`,
      );
      const name = previousName.slice(0, file.namePrefix) + file.nameSuffix;
      check(
        sharedPrefix(previousName, name) === file.namePrefix,
        () => `${at()}: name prefix is not canonical`,
      );
      previousName = name;
      const nameProblem = fileNameProblem(name);
      check(nameProblem === undefined, () => `${at()}: ${nameProblem}`);
      check(file.contentKey.length === 32, () => `${at()}: content key must be 32 bytes`);
      check(file.size <= BigInt(Number.MAX_SAFE_INTEGER), () => `${at()}: size out of range`);
      const base = slotOf(key) === BASE_SLOT;
      check(
        base ? file.epochAdded >= 1 && file.epochAdded < state.epoch : file.epochAdded === 0,
        () => `${at()}: epoch of addition must be given for base files only, and be earlier`,
      );
      check(
        base || (file.ratingSum === 0n && file.ratingCount === 0n),
        () => `${at()}: only base files carry ratings`,
      );
      check(
        file.ratingCount <= BigInt(Number.MAX_SAFE_INTEGER) &&
          file.ratingSum <= BigInt(MAX_STARS) * file.ratingCount,
        () => `${at()}: impossible rating total`,
      );
      const entry: FileEntry = {
        name,
        contentKey: bytesToHex(file.contentKey),
        size: Number(file.size),
        addedBy: userAt(file.addedBy, at),
        epochAdded: base ? file.epochAdded : state.epoch,
        ...(file.ratingCount > 0n
          ? { baseRating: { sum: Number(file.ratingSum), count: Number(file.ratingCount) } }
          : {}),
        ...(file.media ? { media: readMediaAt(file.media, at) } : {}),
      };
      putFile(state, key, entry);
    }

    let previousRating: SlotRating | undefined;
    for (const bytes of ratings) {
      let fileId = 0n;
      let slot = 0;
      let counter = 0;
      let sum = 0;
      let count = 0;
      readFields(bytes, check, (field, wire, reader) => {
        if (field === RATING.fileId && expect(wire, WireType.Bit64, check))
          fileId = BigInt(reader.fixed64());
        else if (field === RATING.slot && expect(wire, WireType.Varint, check))
          slot = reader.uint32();
        else if (field === RATING.counter && expect(wire, WireType.Varint, check))
          counter = reader.uint32();
        else if (field === RATING.sum && expect(wire, WireType.Varint, check))
          sum = reader.uint32();
        else if (field === RATING.count && expect(wire, WireType.Varint, check))
          count = reader.uint32();
        else return false;
        return true;
      });
      const rating: SlotRating = {
        fileId: fileId.toString(16).padStart(16, "0"),
        slot,
        counter,
        sum,
        count,
      };
      const key = eventDot(slot, counter, "rating", false);
      check(count >= 1 && sum <= MAX_STARS * count, () => `rating ${formatDot(key)} is impossible`);
      check(
        !previousRating || byFileAndSlot(previousRating, rating) < 0,
        "ratings are not sorted by file and slot",
      );
      previousRating = rating;
      putRating(state, rating);
    }
    check(referenced.size === users.length, "user table lists a name no entry uses");
    return state;
  });
}

function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
