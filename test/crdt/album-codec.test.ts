// Decoding is the trust boundary: garbage, truncated, mutated or non-canonical
// bytes are refused with InvalidArgument, or else decode to a state that obeys
// every invariant. Never another error, never a crash.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import {
  AlbumStateSchema,
  CausalContextSchema,
  DotSchema,
  FileEntrySchema,
  MemberEntrySchema,
  RemovalSchema,
  SlotRatingSchema,
  VersionEntrySchema,
} from "../../src/gen/albumshare/crdt/v1/album_pb.ts";
import {
  causalContextOf,
  decodeContext,
  decodeDelta,
  decodeState,
  describeReplica,
  encodeContext,
  encodeState,
  join,
  listFiles,
  listMembers,
  BASE_SLOT,
  formatDot,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { contextHas } from "../../src/crdt/causal-context.ts";
import { slotOf } from "../../src/crdt/dot.ts";
import { scenario, simulate } from "./album-simulation.ts";

const STATE_MEMBERS = 4;

/** Every invariant a decoded state must hold. */
function assertValid(state: AlbumState): void {
  assert.ok(Number.isInteger(state.epoch) && state.epoch >= 1);
  const inContext = (key: number): boolean =>
    slotOf(key) === BASE_SLOT || contextHas(state.causal, key);
  for (const key of [...state.members.keys(), ...state.files.keys()]) {
    assert.ok(inContext(key), `entry ${formatDot(key)} outside the context`);
    assert.ok(!state.removedDots.has(key));
  }
  for (const key of state.removals.keys()) assert.ok(inContext(key));
  for (const rating of state.ratings.values())
    assert.ok(rating.count >= 1 && rating.sum <= 5 * rating.count);
  // The read side and the encoder work on it, and the encoding is a fixed point.
  listFiles(state);
  listMembers(state);
  describeReplica(state);
  join(state, state);
  const encoded = encodeState(state);
  assert.deepEqual(encodeState(decodeState(encoded)), encoded);
}

function decodesOrRefuses(bytes: Uint8Array): "decoded" | "refused" {
  try {
    assertValid(decodeState(bytes));
    return "decoded";
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(error instanceof AlbumError, `not an AlbumError: ${String(error)}`);
    assert.equal(error.code, ErrorCode.InvalidArgument);
    return "refused";
  }
}

const validEncodings = scenario(30).map((plan) => {
  const run = simulate(plan);
  return encodeState(run.replicas[0]!);
});

describe("album codec on untrusted input", () => {
  test("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodesOrRefuses(bytes);
        try {
          decodeContext(bytes);
        } catch (error) {
          assert.ok(error instanceof AlbumError && error.code === ErrorCode.InvalidArgument);
        }
      }),
      { seed: 41, numRuns: 3000 },
    );
  });

  test("mutated, truncated and spliced valid encodings", () => {
    let refused = 0;
    fc.assert(
      fc.property(
        validEncodings,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(),
        fc.boolean(),
        (valid, flips, cut, truncate) => {
          const bytes = Uint8Array.from(valid);
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
          const input =
            truncate && bytes.length > 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
          if (decodesOrRefuses(input) === "refused") refused++;
        },
      ),
      { seed: 43, numRuns: 1500 },
    );
    assert.ok(refused > 100, `only ${refused} refusals: mutations too weak`);
  });

  test("decoded contexts round-trip", () => {
    fc.assert(
      fc.property(scenario(30), (plan) => {
        const context = causalContextOf(simulate(plan).replicas[0]!);
        const encoded = encodeContext(context);
        assert.deepEqual(encodeContext(decodeContext(encoded)), encoded);
      }),
      { seed: 47, numRuns: 100 },
    );
  });

  const key32 = new Uint8Array(32).fill(7);
  const file = (init: Record<string, unknown> = {}) =>
    create(FileEntrySchema, {
      slot: 1,
      counter: 1,
      nameSuffix: "a.jpg",
      contentKey: key32,
      size: 1n,
      addedBy: 0,
      ...init,
    });
  const context = (counter = 3, cloud: [number, number][] = []) =>
    create(CausalContextSchema, {
      versionVector: [create(VersionEntrySchema, { slot: 1, counter })],
      cloud: cloud.map(([slot, c]) => create(DotSchema, { slot, counter: c })),
    });
  const state = (init: Record<string, unknown>) =>
    toBinary(
      AlbumStateSchema,
      create(AlbumStateSchema, { epoch: 2, causal: context(), users: ["ann"], ...init }),
    );
  const removal = (init: Record<string, unknown> = {}) =>
    create(RemovalSchema, {
      slot: 1,
      counter: 2,
      removed: [create(DotSchema, { slot: 1, counter: 1 })],
      ...init,
    });
  const rating = (init: Record<string, unknown> = {}) =>
    create(SlotRatingSchema, { fileId: 1n, slot: 1, counter: 1, sum: 1, count: 1, ...init });
  const member = (init: Record<string, unknown> = {}) =>
    create(MemberEntrySchema, { slot: 0, counter: 1, user: 0, ...init });

  const cases: [string, Uint8Array][] = [
    ["epoch 0", state({ epoch: 0, files: [file()] })],
    ["entry outside the context", state({ files: [file({ counter: 9 })] })],
    ["slot out of range", state({ files: [file({ slot: 70000 })] })],
    ["counter 0", state({ files: [file({ counter: 0 })] })],
    ["short content key", state({ files: [file({ contentKey: new Uint8Array(31) })] })],
    ["bad file name", state({ files: [file({ nameSuffix: "a/b" })] })],
    ["empty file name", state({ files: [file({ nameSuffix: "" })] })],
    ["non-NFC file name", state({ files: [file({ nameSuffix: "cafe\u0301" })] })],
    ["name prefix beyond the previous name", state({ files: [file({ namePrefix: 2 })] })],
    [
      "non-canonical name prefix",
      state({ files: [file(), file({ counter: 2, namePrefix: 1, nameSuffix: ".jpg2" })] }),
    ],
    ["adder outside the user table", state({ files: [file({ addedBy: 1 })] })],
    ["huge size", state({ files: [file({ size: 2n ** 60n })] })],
    ["ratings on a non-base file", state({ files: [file({ ratingSum: 1n, ratingCount: 1n })] })],
    ["epoch of addition on a non-base file", state({ files: [file({ epochAdded: 1 })] })],
    ["base file without an epoch of addition", state({ files: [file({ slot: 0 })] })],
    ["base file from the future", state({ files: [file({ slot: 0, epochAdded: 2 })] })],
    [
      "impossible base rating",
      state({ files: [file({ slot: 0, epochAdded: 1, ratingSum: 11n, ratingCount: 2n })] }),
    ],
    [
      "unsorted files",
      state({ files: [file({ counter: 2 }), file({ counter: 1, nameSuffix: "b" })] }),
    ],
    ["one dot, two events", state({ files: [file()], members: [member({ slot: 1 })] })],
    ["bad user name in the table", state({ users: ["a b"], members: [member()] })],
    [
      "unsorted user table",
      state({ users: ["bob", "ann"], members: [member(), member({ counter: 2, user: 1 })] }),
    ],
    ["unused user table entry", state({ users: ["ann", "bob"], members: [member()] })],
    [
      "cloud dot that belongs in the vector",
      state({ causal: context(3, [[1, 4]]), members: [member()] }),
    ],
    [
      "unsorted cloud",
      state({
        causal: context(1, [
          [1, 9],
          [1, 5],
        ]),
        members: [member()],
      }),
    ],
    [
      "vector entry for slot 0",
      state({
        causal: create(CausalContextSchema, {
          versionVector: [create(VersionEntrySchema, { slot: 0, counter: 2 })],
        }),
        members: [member()],
      }),
    ],
    ["removal of nothing", state({ removals: [removal({ removed: [] })], members: [member()] })],
    ["removed entry still present", state({ files: [file()], removals: [removal()] })],
    [
      "witness outside the user table",
      state({ removals: [removal({ witness: 2 })], members: [member()] }),
    ],
    ["impossible slot rating", state({ ratings: [rating({ sum: 6 })], members: [member()] })],
    [
      "rating without a count",
      state({ ratings: [rating({ sum: 0, count: 0 })], members: [member()] }),
    ],
    [
      "rating outside the context",
      state({ ratings: [rating({ counter: 8 })], members: [member()] }),
    ],
    [
      "wrong wire type",
      Uint8Array.from([...state({ members: [member()] }), (STATE_MEMBERS << 3) | 0, 1]),
    ],
    ["truncated", state({ files: [file()] }).subarray(0, 20)],
  ];
  for (const [name, bytes] of cases) {
    test(`refuses ${name}`, (t) => {
      try {
        decodeState(bytes);
      } catch (error) {
        t.diagnostic(String((error as Error).message));
      }
      for (const decode of [decodeState, decodeDelta]) {
        assert.throws(
          () => decode(bytes),
          (error: unknown) =>
            error instanceof AlbumError && error.code === ErrorCode.InvalidArgument,
        );
      }
    });
  }

  test("accepts the well-formed version of those cases", () => {
    assertValid(decodeState(state({ files: [file()] })));
    assertValid(
      decodeState(
        state({
          members: [member()],
          files: [file({ slot: 0, counter: 2, epochAdded: 1, ratingSum: 3n, ratingCount: 1n })],
          removals: [removal({ witness: 1 })],
          ratings: [rating({ counter: 3 })],
        }),
      ),
    );
  });

  test("our encoder and decoder agree with the generated protobuf-es schema", () => {
    fc.assert(
      fc.property(validEncodings, (ours) => {
        // protobuf-es reads our bytes and, re-encoding them, produces the same bytes...
        const message = fromBinary(AlbumStateSchema, ours);
        assert.deepEqual(toBinary(AlbumStateSchema, message), ours);
        // ...and what protobuf-es writes, we read back to the same state.
        assert.deepEqual(encodeState(decodeState(toBinary(AlbumStateSchema, message))), ours);
      }),
      { seed: 59, numRuns: 200 },
    );
  });
});
