// Size: causal metadata and rating aggregates grow with the editors of one
// session, not with everyone who ever edited. Prints the measured sizes.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  addFile,
  addMember,
  causalContextOf,
  cloneState,
  compact,
  createAlbumState,
  encodeContext,
  encodeState,
  findFile,
  listFiles,
  mergeInto,
  rateFile,
  type AlbumDelta,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { contentKey } from "./album-simulation.ts";

const user = (i: number): string => `user${String(i).padStart(4, "0")}`;
const contextBytes = (state: AlbumState): number => encodeContext(causalContextOf(state)).length;
/** Entries of causal metadata and per-slot aggregates. */
const metadataEntries = (state: AlbumState): number =>
  state.causal.versionVector.size +
  state.causal.cloud.size +
  state.removals.size +
  state.ratings.size;

describe("album CRDT size", () => {
  test("1,000 users in sequential sessions: the causal metadata never grows", (t) => {
    let state = createAlbumState(user(0));
    const compactedContext: number[] = [];
    const inSessionContext: number[] = [];
    const inSessionEntries: number[] = [];
    const stateSizes: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const editor = { slot: 1, user: user(i) };
      addFile(state, editor, { name: `photo-${i}.jpg`, contentKey: contentKey(i), size: 1000 + i });
      rateFile(state, editor, `photo-${Math.max(0, i - 1)}.jpg`, i % 6);
      if (i < 999) addMember(state, editor, user(i + 1));
      inSessionContext.push(contextBytes(state));
      inSessionEntries.push(metadataEntries(state));
      state = compact(state);
      compactedContext.push(contextBytes(state));
      assert.equal(metadataEntries(state), 0);
      if (i === 0 || i === 9 || i === 99 || i === 999) stateSizes.push(encodeState(state).length);
    }
    assert.ok(
      compactedContext.every((size) => size === compactedContext[0]),
      "compacted context grew",
    );
    assert.ok(
      inSessionContext.every((size) => size === inSessionContext[0]),
      "in-session context grew",
    );
    assert.ok(inSessionEntries.every((n) => n === inSessionEntries[0]));
    assert.equal(state.epoch, 1001);
    assert.equal(listFiles(state).length, 1000);
    assert.equal(findFile(state, "photo-0.jpg")!.ratingCount, 2);
    const message =
      `sequential sessions: causal context ${compactedContext[0]} B after compaction (session 1 and 1000), ` +
      `${inSessionContext[0]} B during a session (${inSessionEntries[0]} metadata entries); ` +
      `whole state after 1/10/100/1000 users: ${stateSizes.join(" / ")} B`;
    t.diagnostic(message);
    console.log(message);
  });

  test("50 concurrent editors: 50 entries, back to the base after compaction", (t) => {
    const creator = createAlbumState(user(0));
    for (let i = 1; i < 50; i++) addMember(creator, { slot: 1, user: user(0) }, user(i));
    addFile(
      creator,
      { slot: 1, user: user(0) },
      { name: "shared.jpg", contentKey: contentKey(-1), size: 1 },
    );
    const base = compact(creator);
    const baseContext = contextBytes(base);
    const replicas = Array.from({ length: 50 }, () => cloneState(base));
    const deltas: AlbumDelta[] = [];
    replicas.forEach((replica, i) => {
      const editor = { slot: i + 1, user: user(i) };
      deltas.push(
        addFile(replica, editor, { name: `mine-${i}.jpg`, contentKey: contentKey(i), size: i }),
      );
      deltas.push(rateFile(replica, editor, "shared.jpg", i % 6));
    });
    for (const replica of replicas) for (const delta of deltas) mergeInto(replica, delta);
    const merged = replicas[0]!;
    assert.equal(merged.causal.versionVector.size, 50);
    assert.equal(merged.causal.cloud.size, 0);
    assert.equal(merged.ratings.size, 50);
    const sessionContext = contextBytes(merged);
    const sessionState = encodeState(merged).length;
    const after = compact(merged);
    assert.equal(metadataEntries(after), 0);
    assert.equal(contextBytes(after), baseContext);
    assert.equal(findFile(after, "shared.jpg")!.ratingCount, 50);
    const message =
      `50 concurrent editors: causal context ${baseContext} B at the base, ${sessionContext} B in the session ` +
      `(50 version-vector entries; 50 rating aggregates besides; state ${sessionState} B), ` +
      `${contextBytes(after)} B after compaction (state ${encodeState(after).length} B)`;
    t.diagnostic(message);
    console.log(message);
  });
});
