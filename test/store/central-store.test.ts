// The central server's store on a real SQLite file: migrations, uniqueness
// (case-insensitive), the album replica and its member index, and reopening.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { initialReplica } from "../../src/central/album-replica.ts";
import { CentralStore } from "../../src/central/central-store.ts";
import { decodeState, listMembers } from "../../src/crdt/index.ts";

function withStore(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "albumshare-store-"));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("users are unique regardless of letter case", () => {
  withStore((dir) => {
    const store = CentralStore.open(dir);
    store.insertUser("alice", "hash");
    assert.throws(
      () => store.insertUser("ALICE", "hash"),
      (error: unknown) => error instanceof AlbumError && error.code === ErrorCode.AlreadyExists,
    );
    assert.equal(store.findUser("Alice")?.name, "alice");
    store.close();
  });
});

test("a new album stores a CRDT replica whose only member is the creator", () => {
  withStore((dir) => {
    const store = CentralStore.open(dir);
    store.insertAlbum("trip", "alice", initialReplica("alice"), ["alice"]);
    const album = store.findAlbum("trip");
    assert.ok(album?.replica);
    assert.deepEqual(listMembers(decodeState(album.replica)), ["alice"]);
    assert.ok(store.isMember("trip", "alice"));
    assert.ok(!store.isMember("trip", "bob"));
    assert.throws(
      () => store.insertAlbum("TRIP", "bob", initialReplica("bob"), ["bob"]),
      (error: unknown) => error instanceof AlbumError && error.code === ErrorCode.AlreadyExists,
    );
    store.close();
  });
});

test("reopening keeps the data and does not re-run migrations", () => {
  withStore((dir) => {
    const first = CentralStore.open(dir);
    const version = first.schemaVersion;
    first.insertUser("carol", "hash");
    first.insertAlbum("garden", "carol", initialReplica("carol"), ["carol"]);
    first.close();
    const second = CentralStore.open(dir);
    assert.equal(second.schemaVersion, version);
    assert.deepEqual(second.albumsOf("carol"), [{ name: "garden", memberCount: 1 }]);
    second.close();
  });
});

test("hand-offs are logged in order, survive reopening, and a checkpoint folds them away", () => {
  withStore((dir) => {
    const first = CentralStore.open(dir);
    first.insertAlbum("trip", "alice", initialReplica("alice"), ["alice"]);
    first.appendAlbumDelta("trip", new Uint8Array([1]));
    first.appendAlbumDelta("TRIP", new Uint8Array([2]), ["alice", "bob"]);
    assert.ok(first.isMember("trip", "bob"), "the member index follows a logged change");
    first.close();
    const second = CentralStore.open(dir);
    assert.deepEqual(
      second.albumLog("trip").map((delta) => [...delta]),
      [[1], [2]],
    );
    second.checkpointAlbum("trip", initialReplica("alice"), ["alice"], true);
    assert.deepEqual(second.albumLog("trip"), []);
    assert.equal(second.findAlbum("trip")?.sessionOpen, true);
    assert.ok(!second.isMember("trip", "bob"));
    second.close();
  });
});
