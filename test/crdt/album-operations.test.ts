// The operations one by one: arguments, errors, and the documented semantics
// (FileIds, display names, add-wins, the last member, compaction, epochs).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import {
  addFile,
  addMember,
  causalContextOf,
  cloneState,
  compact,
  createAlbumState,
  describeReplica,
  encodeState,
  findFile,
  highestCounter,
  isMember,
  join,
  listFiles,
  listMembers,
  mergeInto,
  missingFrom,
  rateFile,
  removeFile,
  removeMember,
  dotKey,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { contentKey } from "./album-simulation.ts";

const alice = { slot: 1, user: "alice" };
const bob = { slot: 2, user: "bob" };
const carol = { slot: 3, user: "carol" };
const KEY_A = contentKey(1);
const KEY_B = contentKey(2);

function throwsCode(action: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof AlbumError, `expected an AlbumError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Epoch 2: alice, bob and carol are members. */
function album(): AlbumState {
  const state = createAlbumState("alice");
  addMember(state, alice, "bob");
  addMember(state, alice, "carol");
  return compact(state);
}

const bytes = (state: AlbumState): string => Buffer.from(encodeState(state)).toString("hex");

describe("creating an album", () => {
  test("epoch 1, the creator as only member, nothing else", () => {
    const state = createAlbumState("alice");
    assert.equal(state.epoch, 1);
    assert.deepEqual(listMembers(state), ["alice"]);
    assert.deepEqual(listFiles(state), []);
    assert.equal(state.causal.versionVector.size, 0);
  });

  test("refuses an invalid creator name", () => {
    throwsCode(() => createAlbumState(""), ErrorCode.InvalidArgument);
    throwsCode(() => createAlbumState("a b"), ErrorCode.InvalidArgument);
  });
});

describe("files", () => {
  test("add, list, find (content key only as data), remove", () => {
    const state = album();
    addFile(state, alice, { name: "photo.jpg", contentKey: KEY_A.toUpperCase(), size: 1234 });
    const [file] = listFiles(state);
    assert.equal(file!.displayName, "photo.jpg");
    assert.equal(file!.contentKey, KEY_A);
    assert.equal(file!.size, 1234);
    assert.equal(file!.addedBy, "alice");
    assert.match(file!.fileId, /^[0-9a-f]{16}$/);
    assert.equal(file!.average, null);
    assert.equal(findFile(state, "photo.jpg")?.contentKey, KEY_A);
    removeFile(state, bob, "photo.jpg");
    assert.deepEqual(listFiles(state), []);
  });

  test("names are stored in NFC form", () => {
    const state = album();
    addFile(state, alice, { name: "cafe\u0301.jpg", contentKey: KEY_A, size: 1 });
    assert.equal(listFiles(state)[0]!.name, "caf\u00e9.jpg");
  });

  test("bad arguments are InvalidArgument", () => {
    const state = album();
    for (const name of [
      "",
      ".",
      "..",
      "a/b.jpg",
      "a\u0000b",
      "tab\there",
      "x".repeat(256),
      "\ud800",
    ]) {
      throwsCode(
        () => addFile(state, alice, { name, contentKey: KEY_A, size: 1 }),
        ErrorCode.InvalidArgument,
      );
    }
    throwsCode(
      () => addFile(state, alice, { name: "a", contentKey: "abc", size: 1 }),
      ErrorCode.InvalidArgument,
    );
    throwsCode(
      () => addFile(state, alice, { name: "a", contentKey: KEY_A, size: -1 }),
      ErrorCode.InvalidArgument,
    );
    throwsCode(
      () => addFile(state, alice, { name: "a", contentKey: KEY_A, size: 1.5 }),
      ErrorCode.InvalidArgument,
    );
    throwsCode(
      () => addFile(state, { slot: 0, user: "alice" }, { name: "a", contentKey: KEY_A, size: 1 }),
      ErrorCode.InvalidArgument,
    );
    throwsCode(
      () =>
        addFile(state, { slot: 65536, user: "alice" }, { name: "a", contentKey: KEY_A, size: 1 }),
      ErrorCode.InvalidArgument,
    );
  });

  test("an existing name is refused, with or without the same content", () => {
    const state = album();
    addFile(state, alice, { name: "a.jpg", contentKey: KEY_A, size: 1 });
    throwsCode(
      () => addFile(state, bob, { name: "a.jpg", contentKey: KEY_A, size: 1 }),
      ErrorCode.AlreadyExists,
    );
    throwsCode(
      () => addFile(state, bob, { name: "a.jpg", contentKey: KEY_B, size: 1 }),
      ErrorCode.AlreadyExists,
    );
  });

  test("a refused operation leaves the replica unchanged", () => {
    const state = album();
    addFile(state, alice, { name: "a.jpg", contentKey: KEY_A, size: 1 });
    const before = bytes(state);
    throwsCode(() => removeFile(state, alice, "nope.jpg"), ErrorCode.NotFound);
    throwsCode(() => rateFile(state, alice, "a.jpg", 9), ErrorCode.InvalidArgument);
    throwsCode(() => addMember(state, alice, "bob"), ErrorCode.AlreadyExists);
    assert.equal(bytes(state), before);
  });

  test("non-members cannot edit", () => {
    const state = album();
    throwsCode(
      () => addFile(state, { slot: 4, user: "mallory" }, { name: "a", contentKey: KEY_A, size: 1 }),
      ErrorCode.PermissionDenied,
    );
  });

  test("concurrent adds of one name with different contents keep both, named by adder", () => {
    const base = album();
    const a = cloneState(base);
    const b = cloneState(base);
    addFile(a, alice, { name: "photo.jpg", contentKey: KEY_A, size: 1 });
    addFile(b, bob, { name: "photo.jpg", contentKey: KEY_B, size: 2 });
    const merged = join(a, b);
    assert.deepEqual(
      listFiles(merged).map((f) => f.displayName),
      ["photo.jpg (alice)", "photo.jpg (bob)"],
    );
    assert.equal(findFile(merged, "photo.jpg (alice)")?.contentKey, KEY_A);
    assert.equal(findFile(merged, "photo.jpg (bob)")?.contentKey, KEY_B);
    assert.equal(findFile(merged, "photo.jpg"), undefined);
    // Removing one leaves the other under its plain name again.
    removeFile(merged, carol, "photo.jpg (alice)");
    assert.deepEqual(
      listFiles(merged).map((f) => f.displayName),
      ["photo.jpg"],
    );
    assert.equal(findFile(merged, "photo.jpg")?.contentKey, KEY_B);
  });

  test("one adder with several contents gets ranked names, never the key", () => {
    const base = album();
    const replicas = [1, 2, 3].map(() => cloneState(base));
    replicas.forEach((replica, i) =>
      addFile(
        replica,
        { slot: i + 1, user: "alice" },
        { name: "p.jpg", contentKey: contentKey(10 + i), size: i },
      ),
    );
    const merged = replicas.reduce((x, y) => join(x, y));
    const names = listFiles(merged).map((f) => f.displayName);
    assert.deepEqual(names, ["p.jpg (alice #1)", "p.jpg (alice #2)", "p.jpg (alice #3)"]);
    const ids = listFiles(merged).map((f) => f.fileId);
    assert.deepEqual(ids, [...ids].sort());
  });

  test("a real name that looks disambiguated does not collide", () => {
    const base = album();
    const a = cloneState(base);
    const b = cloneState(base);
    addFile(a, alice, { name: "x.jpg", contentKey: KEY_A, size: 1 });
    addFile(a, alice, { name: "x.jpg (bob)", contentKey: contentKey(7), size: 1 });
    addFile(b, bob, { name: "x.jpg", contentKey: KEY_B, size: 1 });
    const merged = join(a, b);
    const names = listFiles(merged).map((f) => f.displayName);
    assert.equal(new Set(names).size, 3);
    for (const name of names) assert.ok(findFile(merged, name));
  });

  test("the same content added concurrently under one name is one file", () => {
    const base = album();
    const a = cloneState(base);
    const b = cloneState(base);
    addFile(a, alice, { name: "same.jpg", contentKey: KEY_A, size: 1 });
    addFile(b, bob, { name: "same.jpg", contentKey: KEY_A, size: 1 });
    const merged = join(a, b);
    const files = listFiles(merged);
    assert.equal(files.length, 1);
    assert.equal(files[0]!.displayName, "same.jpg");
    assert.equal(files[0]!.dots.length, 2);
    assert.equal(listFiles(a)[0]!.fileId, listFiles(b)[0]!.fileId);
    // A remove that saw only one of the adds leaves the other (add wins), same FileId.
    const onlyA = cloneState(a);
    removeFile(onlyA, alice, "same.jpg");
    const after = join(merged, onlyA);
    assert.equal(listFiles(after).length, 1);
    assert.equal(listFiles(after)[0]!.fileId, files[0]!.fileId);
  });

  test("add wins over a concurrent remove", () => {
    const base = album();
    addFile(base, alice, { name: "w.jpg", contentKey: KEY_A, size: 1 });
    const remover = cloneState(base);
    const readder = cloneState(base);
    removeFile(remover, bob, "w.jpg");
    removeFile(readder, carol, "w.jpg");
    addFile(readder, carol, { name: "w.jpg", contentKey: KEY_A, size: 1 });
    assert.equal(findFile(join(remover, readder), "w.jpg")?.addedBy, "carol");
    assert.equal(findFile(join(readder, remover), "w.jpg")?.addedBy, "carol");
  });

  test("FileId: same for the same content in one epoch, new for other content or a later epoch", () => {
    const state = album();
    addFile(state, alice, { name: "f.jpg", contentKey: KEY_A, size: 1 });
    const first = findFile(state, "f.jpg")!.fileId;
    rateFile(state, alice, "f.jpg", 5);
    removeFile(state, alice, "f.jpg");
    addFile(state, alice, { name: "f.jpg", contentKey: KEY_B, size: 1 });
    const other = findFile(state, "f.jpg")!;
    assert.notEqual(other.fileId, first);
    assert.equal(other.ratingCount, 0);
    removeFile(state, alice, "f.jpg");
    addFile(state, alice, { name: "f.jpg", contentKey: KEY_A, size: 1 });
    assert.equal(findFile(state, "f.jpg")!.fileId, first, "same content, same session: same file");
    assert.equal(findFile(state, "f.jpg")!.ratingCount, 1);
    // Compaction keeps the FileId of a file that stays...
    const next = compact(state);
    assert.equal(findFile(next, "f.jpg")!.fileId, first);
    // ...and a file re-added in a later session is a new file without ratings.
    removeFile(next, alice, "f.jpg");
    const later = compact(next);
    addFile(later, alice, { name: "f.jpg", contentKey: KEY_A, size: 1 });
    assert.notEqual(findFile(later, "f.jpg")!.fileId, first);
    assert.equal(findFile(later, "f.jpg")!.ratingCount, 0);
  });
});

describe("ratings", () => {
  test("integers 0 to 5, averaged per file", () => {
    const state = album();
    addFile(state, alice, { name: "r.jpg", contentKey: KEY_A, size: 1 });
    for (const stars of [-1, 6, 2.5, Number.NaN]) {
      throwsCode(() => rateFile(state, alice, "r.jpg", stars), ErrorCode.InvalidArgument);
    }
    throwsCode(() => rateFile(state, alice, "nope.jpg", 3), ErrorCode.NotFound);
    rateFile(state, alice, "r.jpg", 5);
    rateFile(state, bob, "r.jpg", 0);
    rateFile(state, carol, "r.jpg", 4);
    const file = findFile(state, "r.jpg")!;
    assert.equal(file.ratingCount, 3);
    assert.equal(file.ratingSum, 9);
    assert.equal(file.average, 3);
  });

  test("aggregates are per slot and fold into the file on compaction", () => {
    const state = album();
    addFile(state, alice, { name: "r.jpg", contentKey: KEY_A, size: 1 });
    addFile(state, alice, { name: "gone.jpg", contentKey: KEY_B, size: 1 });
    rateFile(state, alice, "r.jpg", 5);
    rateFile(state, alice, "gone.jpg", 5);
    rateFile(state, bob, "r.jpg", 2);
    assert.equal(state.ratings.size, 3);
    removeFile(state, bob, "gone.jpg");
    const next = compact(state);
    assert.equal(next.ratings.size, 0, "ratings of removed files are dropped");
    const file = findFile(next, "r.jpg")!;
    assert.deepEqual([file.ratingCount, file.ratingSum], [2, 7]);
    rateFile(next, carol, "r.jpg", 2);
    assert.equal(findFile(next, "r.jpg")!.average, 3);
  });
});

describe("members", () => {
  test("add, remove, refusals", () => {
    const state = album();
    addMember(state, alice, "dave");
    assert.ok(isMember(state, "dave"));
    throwsCode(() => addMember(state, alice, "dave"), ErrorCode.AlreadyExists);
    throwsCode(() => addMember(state, alice, "no way"), ErrorCode.InvalidArgument);
    throwsCode(() => removeMember(state, alice, "zed"), ErrorCode.NotFound);
    removeMember(state, alice, "dave");
    removeMember(state, bob, "bob");
    assert.deepEqual(listMembers(state), ["alice", "carol"]);
    throwsCode(
      () => addFile(state, bob, { name: "a", contentKey: KEY_A, size: 1 }),
      ErrorCode.PermissionDenied,
    );
  });

  test("the last member cannot be removed", () => {
    const state = createAlbumState("alice");
    throwsCode(
      () => removeMember(state, alice, "alice"),
      ErrorCode.FailedPrecondition,
      /last member/,
    );
  });

  test("add wins over a concurrent remove of a member", () => {
    const base = album();
    const a = cloneState(base);
    const b = cloneState(base);
    removeMember(a, alice, "carol");
    removeMember(b, bob, "carol");
    addMember(b, bob, "carol");
    assert.ok(isMember(join(a, b), "carol"));
  });

  test("concurrent removals of the last two members keep both (witness fallback)", () => {
    const base = createAlbumState("alice");
    addMember(base, alice, "bob");
    const start = compact(base);
    const a = cloneState(start);
    const b = cloneState(start);
    removeMember(a, alice, "bob");
    removeMember(b, bob, "alice");
    const merged = join(a, b);
    assert.deepEqual(listMembers(merged), ["alice", "bob"]);
    assert.match(describeReplica(merged), /restored after concurrent removals/);
    // A later membership change makes the restored group real instead of dropping it.
    const changed = cloneState(merged);
    addMember(changed, alice, "carol");
    assert.deepEqual(listMembers(changed), ["alice", "bob", "carol"]);
    const removedOne = cloneState(merged);
    removeMember(removedOne, alice, "bob");
    assert.deepEqual(listMembers(removedOne), ["alice"]);
    // And compaction keeps it.
    assert.deepEqual(listMembers(compact(merged)), ["alice", "bob"]);
  });
});

describe("epochs, slots and compaction", () => {
  test("states and deltas of different epochs never merge", () => {
    const state = album();
    const older = createAlbumState("alice");
    throwsCode(() => join(state, older), ErrorCode.FailedPrecondition, /stale/);
    throwsCode(() => mergeInto(older, state), ErrorCode.FailedPrecondition);
    throwsCode(() => missingFrom(state, causalContextOf(older)), ErrorCode.FailedPrecondition);
    const delta = addFile(cloneState(state), alice, { name: "a", contentKey: KEY_A, size: 1 });
    throwsCode(() => mergeInto(compact(state), delta), ErrorCode.FailedPrecondition);
  });

  test("compaction empties the causal metadata and bumps the epoch", () => {
    const state = album();
    addFile(state, alice, { name: "a", contentKey: KEY_A, size: 1 });
    addFile(state, bob, { name: "b", contentKey: KEY_B, size: 1 });
    removeFile(state, carol, "b");
    rateFile(state, bob, "a", 3);
    const next = compact(state);
    assert.equal(next.epoch, state.epoch + 1);
    assert.equal(next.causal.versionVector.size + next.causal.cloud.size, 0);
    assert.equal(next.removals.size + next.ratings.size, 0);
    assert.deepEqual(listMembers(next), listMembers(state));
    assert.deepEqual(
      listFiles(next).map((f) => [f.displayName, f.fileId, f.ratingSum, f.ratingCount]),
      listFiles(state).map((f) => [f.displayName, f.fileId, f.ratingSum, f.ratingCount]),
    );
  });

  test("highestCounter follows a slot's events, and new dots continue above it", () => {
    const state = album();
    assert.equal(highestCounter(state, 2), 0);
    addFile(state, bob, { name: "a", contentKey: KEY_A, size: 1 });
    rateFile(state, bob, "a", 1);
    assert.equal(highestCounter(state, 2), 2);
    // A newcomer in slot 2 that starts from this state continues at 3.
    const next = cloneState(state);
    const delta = addFile(
      next,
      { slot: 2, user: "carol" },
      { name: "b", contentKey: KEY_B, size: 1 },
    );
    assert.deepEqual([...delta.files.keys()], [dotKey(2, 3)]);
  });

  test("an editor whose replica has a gap in its own slot is refused", () => {
    const base = album();
    const source = cloneState(base);
    addFile(source, bob, { name: "a", contentKey: KEY_A, size: 1 });
    const second = addFile(source, bob, { name: "b", contentKey: KEY_B, size: 1 });
    const gappy = cloneState(base);
    mergeInto(gappy, second);
    throwsCode(
      () => addFile(gappy, bob, { name: "c", contentKey: contentKey(3), size: 1 }),
      ErrorCode.FailedPrecondition,
      /history of session slot 2/,
    );
  });

  test("describeReplica shows files, members, ratings and causal metadata, never a content key", () => {
    const state = album();
    addFile(state, alice, { name: "photo.jpg", contentKey: KEY_A, size: 10 });
    rateFile(state, bob, "photo.jpg", 4);
    removeMember(state, alice, "carol");
    const text = describeReplica(state);
    for (const needle of [
      "epoch 2",
      "version vector {1:2, 2:1}",
      "photo.jpg",
      "alice",
      "4/1",
      "removals",
    ]) {
      assert.ok(text.includes(needle), `missing ${needle} in\n${text}`);
    }
    assert.ok(!text.includes(KEY_A) && !text.includes(KEY_A.slice(0, 12)));
  });
});
