// The checked reading primitives of the album decoder: every problem becomes
// one InvalidArgument AlbumError naming what was being read, the wire
// reader's own errors included; fields are read by number, unknown ones
// skipped; dots and causal contexts are range-checked and must be canonical.
// It never builds album state.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { emptyContext, type CausalContext } from "./causal-context.ts";
import { dotKey, isCounter, isEditorSlot } from "./dot.ts";
import { CAUSAL, DOT } from "./album-wire.ts";

// The problem may be given as a function, so hot loops build no message unless it fails.
export type Check = (condition: boolean, problem: string | (() => string)) => asserts condition;

export function checker(what: string): Check {
  return (condition, problem) => {
    if (condition) return;
    const text = typeof problem === "string" ? problem : problem();
    throw new AlbumError(ErrorCode.InvalidArgument, `invalid ${what}: ${text}`);
  };
}

// Turns the wire reader's own errors (truncation, bad varints, bad UTF-8) into InvalidArgument.
export function guard<T>(what: string, decode: () => T): T {
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
export function readFields(
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

export function expect(wire: WireType, wanted: WireType, check: Check): true {
  check(wire === wanted, "a field has the wrong wire type");
  return true;
}

export const strictString = (reader: BinaryReader): string => reader.string(true);
export const uint64 = (reader: BinaryReader): bigint => BigInt(reader.uint64());

export function readDot(bytes: Uint8Array, check: Check): { slot: number; counter: number } {
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

export function readCausal(bytes: Uint8Array | undefined, check: Check): CausalContext {
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
