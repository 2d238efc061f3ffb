// The wire form of replicas, deltas and causal contexts: the messages of
// albumshare.crdt.v1 (proto/albumshare/crdt/v1/album.proto), written and read
// with protobuf-es's wire primitives rather than its reflective toBinary/
// fromBinary, which were too slow for 10,000-file albums (the tests check that
// both produce and accept the same bytes). Encoding is canonical — fields in
// number order, defaults left out, lists sorted, removed adds left out — so
// equal replicas give equal bytes. Decoding treats its input as untrusted:
// anything malformed, out of range or non-canonical is refused with an
// InvalidArgument AlbumError; it never yields a state the operations could not
// handle.
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { contextHas, emptyContext, type CausalContext } from "./causal-context.ts";
import {
  ascending,
  BASE_SLOT,
  counterOf,
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
import { readFileMedia, writeFileMedia, type FileMedia } from "./file-media.ts";

// Field numbers, as in album.proto.
const STATE = { epoch: 1, causal: 2, users: 3, members: 4, files: 5, removals: 6, ratings: 7 };
const CONTEXT = { epoch: 1, causal: 2 };
const CAUSAL = { versionVector: 1, cloud: 2 };
const DOT = { slot: 1, counter: 2 };
const MEMBER = { slot: 1, counter: 2, user: 3 };
const FILE = {
  slot: 1,
  counter: 2,
  namePrefix: 3,
  nameSuffix: 4,
  contentKey: 5,
  size: 6,
  addedBy: 7,
  epochAdded: 8,
  ratingSum: 9,
  ratingCount: 10,
  media: 11,
};
const REMOVAL = { slot: 1, counter: 2, removed: 3, witness: 4 };
const RATING = { fileId: 1, slot: 2, counter: 3, sum: 4, count: 5 };

// ---- encoding -----------------------------------------------------------------

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

/** Longest common prefix in UTF-16 code units, never ending inside a surrogate pair. */
function sharedPrefix(previous: string, name: string): number {
  const limit = Math.min(previous.length, name.length);
  let length = 0;
  while (length < limit && previous.charCodeAt(length) === name.charCodeAt(length)) length++;
  if (length > 0 && isHighSurrogate(name.charCodeAt(length - 1))) length--;
  return length;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

const byFileAndSlot = (a: SlotRating, b: SlotRating): number =>
  a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : a.slot - b.slot;

// ---- decoding -----------------------------------------------------------------

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

// The problem may be given as a function, so hot loops build no message unless it fails.
type Check = (condition: boolean, problem: string | (() => string)) => asserts condition;

function checker(what: string): Check {
  return (condition, problem) => {
    if (condition) return;
    const text = typeof problem === "string" ? problem : problem();
    throw new AlbumError(ErrorCode.InvalidArgument, `invalid ${what}: ${text}`);
  };
}

// Turns the wire reader's own errors (truncation, bad varints, bad UTF-8) into InvalidArgument.
function guard<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof AlbumError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AlbumError(ErrorCode.InvalidArgument, `${what} is not valid protobuf: ${reason}`, {
      cause: error,
    });
  }
}

/** Reads every field of one message; `onField` returns false for fields it does not know (skipped). */
function readFields(
  bytes: Uint8Array,
  check: Check,
  onField: (field: number, wire: WireType, reader: BinaryReader) => boolean,
): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (!onField(field, wire, reader)) reader.skip(wire, field);
  }
  check(reader.pos === reader.len, "message ends in the middle of a field");
}

function expect(wire: WireType, wanted: WireType, check: Check): true {
  check(wire === wanted, "a field has the wrong wire type");
  return true;
}

const strictString = (reader: BinaryReader): string => reader.string(true);
const uint64 = (reader: BinaryReader): bigint => BigInt(reader.uint64());

function readDot(bytes: Uint8Array, check: Check): { slot: number; counter: number } {
  let slot = 0;
  let counter = 0;
  readFields(bytes, check, (field, wire, reader) => {
    if (field === DOT.slot && expect(wire, WireType.Varint, check)) slot = reader.uint32();
    else if (field === DOT.counter && expect(wire, WireType.Varint, check))
      counter = reader.uint32();
    else return false;
    return true;
  });
  return { slot, counter };
}

function readCausal(bytes: Uint8Array | undefined, check: Check): CausalContext {
  const context = emptyContext();
  if (!bytes) return context;
  const vector: Uint8Array[] = [];
  const cloud: Uint8Array[] = [];
  readFields(bytes, check, (field, wire, reader) => {
    if (field === CAUSAL.versionVector && expect(wire, WireType.LengthDelimited, check))
      vector.push(reader.bytes());
    else if (field === CAUSAL.cloud && expect(wire, WireType.LengthDelimited, check))
      cloud.push(reader.bytes());
    else return false;
    return true;
  });
  check(vector.length + cloud.length > 0, "an empty causal context must be left out");
  let previous = 0;
  for (const entry of vector) {
    const { slot, counter } = readDot(entry, check);
    check(
      isEditorSlot(slot) && isCounter(counter),
      () => `version vector entry ${slot}:${counter} out of range`,
    );
    check(slot > previous, "version vector is not sorted by slot without duplicates");
    previous = slot;
    context.versionVector.set(slot, counter);
  }
  let previousDot = -1;
  for (const entry of cloud) {
    const { slot, counter } = readDot(entry, check);
    check(
      isEditorSlot(slot) && isCounter(counter),
      () => `cloud dot ${slot}.${counter} out of range`,
    );
    const key = dotKey(slot, counter);
    check(key > previousDot, "dot cloud is not sorted without duplicates");
    check(
      counter > (context.versionVector.get(slot) ?? 0) + 1,
      () => `cloud dot ${slot}.${counter} belongs in the version vector`,
    );
    previousDot = key;
    context.cloud.add(key);
  }
  return context;
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

interface RawFile {
  slot: number;
  counter: number;
  namePrefix: number;
  nameSuffix: string;
  contentKey: Uint8Array;
  size: bigint;
  addedBy: number;
  epochAdded: number;
  ratingSum: bigint;
  ratingCount: bigint;
  media: Uint8Array | undefined;
}

function readMediaAt(bytes: Uint8Array, at: () => string): FileMedia {
  try {
    return readFileMedia(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AlbumError(ErrorCode.InvalidArgument, `invalid album state: ${at()}: ${reason}`);
  }
}

// The hot path of big albums: one reader over the whole buffer, no closure per entry.
function readFile(
  reader: BinaryReader,
  bytes: Uint8Array,
  entry: Uint8Array,
  check: Check,
): RawFile {
  const file: RawFile = {
    slot: 0,
    counter: 0,
    namePrefix: 0,
    nameSuffix: "",
    contentKey: EMPTY,
    size: 0n,
    addedBy: 0,
    epochAdded: 0,
    ratingSum: 0n,
    ratingCount: 0n,
    media: undefined,
  };
  const end = entry.byteOffset - bytes.byteOffset + entry.byteLength;
  reader.pos = end - entry.byteLength;
  while (reader.pos < end) {
    const [field, wire] = reader.tag();
    const wanted =
      field === FILE.nameSuffix || field === FILE.contentKey || field === FILE.media
        ? WireType.LengthDelimited
        : WireType.Varint;
    if (field >= FILE.slot && field <= FILE.media)
      check(wire === wanted, "a file field has the wrong wire type");
    switch (field) {
      case FILE.slot:
        file.slot = reader.uint32();
        break;
      case FILE.counter:
        file.counter = reader.uint32();
        break;
      case FILE.namePrefix:
        file.namePrefix = reader.uint32();
        break;
      case FILE.nameSuffix:
        file.nameSuffix = reader.string(true);
        break;
      case FILE.contentKey:
        file.contentKey = reader.bytes();
        break;
      case FILE.size:
        file.size = uint64(reader);
        break;
      case FILE.addedBy:
        file.addedBy = reader.uint32();
        break;
      case FILE.epochAdded:
        file.epochAdded = reader.uint32();
        break;
      case FILE.ratingSum:
        file.ratingSum = uint64(reader);
        break;
      case FILE.ratingCount:
        file.ratingCount = uint64(reader);
        break;
      case FILE.media:
        file.media = reader.bytes();
        break;
      default:
        reader.skip(wire, field);
    }
  }
  check(reader.pos === end, "a file entry ends in the middle of a field");
  return file;
}

const EMPTY = new Uint8Array(0);

function hexToBytes(hex: string): Uint8Array {
  return Buffer.from(hex, "hex");
}

function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
