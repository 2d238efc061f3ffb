// Counting what a forced removal loses, against a simple model: from each
// album's listing (files and their renditions' keys), the distinct keys whose
// ring position lies in an arc the removed server owned, found through
// rangesOwnedBy and inRange rather than ownerOf. Albums are built with the
// CRDT operations (adds, renditions, removals, keys shared across albums);
// the result must not depend on the order albums come in. Also: a replica and
// its log replayed together, and every add of a file counted when concurrent
// adds carry renditions of their own. And the store side: every stored
// album, over several batches, with an open session's log, an unreadable
// replica skipped and counted.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LOST_FILE_NAMES_SHOWN,
  countLostKeys,
  type LostKeys,
} from "../../src/central/cluster/lost-keys.ts";
import { replayAlbum } from "../../src/central/album-replica.ts";
import { CentralStore } from "../../src/central/central-store.ts";
import { storedLostKeysCounter } from "../../src/central/cluster/stored-lost-keys.ts";
import { silentLogger } from "../../src/common/logger.ts";
import {
  addFile,
  createAlbumState,
  encodeDelta,
  encodeState,
  listFiles,
  mergeInto,
  removeFile,
  type AlbumFile,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { keyPosition } from "../../src/ring/content-key.ts";
import { inRange, Ring } from "../../src/ring/ring.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const POOL = Array.from({ length: 24 }, (_, i) => sha256(`content ${i}`));

interface AlbumPlan {
  files: { name: number; content: number; thumbnail: number | null; preview: number | null }[];
  removals: number[];
}

const albumPlan: fc.Arbitrary<AlbumPlan> = fc.record({
  files: fc.array(
    fc.record({
      name: fc.nat(9),
      content: fc.nat(POOL.length - 1),
      thumbnail: fc.option(fc.nat(POOL.length - 1)),
      preview: fc.option(fc.nat(POOL.length - 1)),
    }),
    { maxLength: 8 },
  ),
  removals: fc.array(fc.nat(9), { maxLength: 3 }),
});

function buildAlbum(creator: string, plan: AlbumPlan): AlbumState {
  const state = createAlbumState(creator);
  const editor = { slot: 1, user: creator };
  for (const file of plan.files) {
    const name = `file-${file.name}.jpg`;
    if (listFiles(state).some((f) => f.name === name)) continue;
    addFile(state, editor, {
      name,
      contentKey: POOL[file.content]!,
      size: 1 + file.content,
      media: {
        kind: "image",
        ...(file.thumbnail !== null ? { thumbnailKey: POOL[file.thumbnail]! } : {}),
        ...(file.preview !== null ? { previewKey: POOL[file.preview]! } : {}),
      },
    });
  }
  for (const removal of plan.removals) {
    const name = `file-${removal}.jpg`;
    if (listFiles(state).some((f) => f.displayName === name)) removeFile(state, editor, name);
  }
  return state;
}

function ringOf(servers: number): Ring {
  let ring = Ring.empty();
  for (let i = 0; i < servers; i++) ring = ring.withServer(`ds-${i}`, `127.0.0.1:${7000 + i}`);
  return ring;
}

const keysOf = (file: AlbumFile): string[] =>
  [file.contentKey, file.media?.thumbnailKey, file.media?.previewKey].filter(
    (key) => key !== undefined,
  );

function model(
  albums: { name: string; state: AlbumState }[],
  ring: Ring,
  serverId: string,
): LostKeys {
  const arcs = ring.rangesOwnedBy(serverId);
  const placed = (key: string): boolean => arcs.some((arc) => inRange(keyPosition(key), arc));
  const keys = new Set<string>();
  const names: string[] = [];
  let albumCount = 0;
  for (const { name, state } of albums) {
    const hit = listFiles(state).filter((file) => keysOf(file).some(placed));
    for (const file of hit) {
      for (const key of keysOf(file)) if (placed(key)) keys.add(key);
      names.push(`${file.name} (${name})`);
    }
    if (hit.length > 0) albumCount++;
  }
  return {
    keys: keys.size,
    albums: albumCount,
    files: names.length,
    fileNames: [...new Set(names)].sort().slice(0, LOST_FILE_NAMES_SHOWN),
  };
}

void describe("lost keys of a forced removal", () => {
  void test("match the model, whatever the order of the albums", () => {
    fc.assert(
      fc.property(
        fc.array(albumPlan, { maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(4),
        fc.nat(),
        (plans, servers, pick, rotation) => {
          const ring = ringOf(servers);
          const serverId = `ds-${pick % servers}`;
          const albums = plans.map((plan, i) => ({
            name: `album-${i}`,
            state: buildAlbum(`user${i}`, plan),
          }));
          const counted = countLostKeys(albums, ring, serverId);
          assert.deepEqual(counted, model(albums, ring, serverId));
          const rotated = [
            ...albums.slice(rotation % (albums.length || 1)),
            ...albums.slice(0, rotation % (albums.length || 1)),
          ];
          assert.deepEqual(countLostKeys(rotated.reverse(), ring, serverId), counted);
          // A single server holds everything: every referenced key is lost.
          const all = countLostKeys(albums, ringOf(1), "ds-0");
          const referenced = new Set(
            albums.flatMap(({ state }) => listFiles(state).flatMap(keysOf)),
          );
          assert.equal(all.keys, referenced.size);
        },
      ),
      { numRuns: 150 },
    );
  });

  void test("an album is its stored replica with the log of an open session replayed", () => {
    const alice = { slot: 1, user: "alice" };
    const state = createAlbumState("alice");
    addFile(state, alice, { name: "a.jpg", contentKey: POOL[0]!, size: 1 });
    const replica = encodeState(state);
    const delta = addFile(state, alice, {
      name: "b.jpg",
      contentKey: POOL[1]!,
      size: 2,
      media: { kind: "image", thumbnailKey: POOL[2]! },
    });
    const replayed = replayAlbum(replica, [encodeDelta(delta)]);
    const counted = countLostKeys([{ name: "trip", state: replayed }], ringOf(1), "ds-0");
    assert.deepEqual(counted, {
      keys: 3,
      albums: 1,
      files: 2,
      fileNames: ["a.jpg (trip)", "b.jpg (trip)"],
    });
  });

  void test("every add of a file counts: concurrent adds may carry renditions of their own", () => {
    const base = createAlbumState("alice");
    const other = createAlbumState("alice");
    const file = { name: "dune.jpg", contentKey: POOL[3]!, size: 3 };
    addFile(
      base,
      { slot: 1, user: "alice" },
      { ...file, media: { kind: "image", thumbnailKey: POOL[4]! } },
    );
    const bobs = addFile(
      other,
      { slot: 2, user: "alice" },
      { ...file, media: { kind: "image", thumbnailKey: POOL[5]! } },
    );
    mergeInto(base, bobs);
    const counted = countLostKeys([{ name: "alice/trip", state: base }], ringOf(1), "ds-0");
    assert.deepEqual(counted, { keys: 3, albums: 1, files: 1, fileNames: ["dune.jpg (trip)"] });
  });
});

void test("the stored albums are counted over several batches; an unreadable one is skipped", async () => {
  const dir = await mkdtemp(join(tmpdir(), "albumshare-lost-keys-"));
  const store = CentralStore.open(dir);
  try {
    const alice = { slot: 1, user: "alice" };
    const albums: { name: string; state: AlbumState }[] = [];
    for (let i = 0; i < 70; i++) {
      const state = createAlbumState("alice");
      addFile(state, alice, { name: `a${i}.jpg`, contentKey: POOL[i % POOL.length]!, size: 1 });
      const name = `album-${i}`;
      store.insertAlbum(name, "alice", encodeState(state), ["alice"]);
      if (i % 10 === 0) {
        const delta = addFile(state, alice, {
          name: `b${i}.jpg`,
          contentKey: POOL[(i + 7) % POOL.length]!,
          size: 1,
          media: { kind: "image", previewKey: POOL[(i + 11) % POOL.length]! },
        });
        store.appendAlbumDelta(name, encodeDelta(delta));
      }
      albums.push({ name, state });
    }
    store.insertAlbum("broken", "alice", Uint8Array.from([0xff, 0xff, 0xff]), ["alice"]);
    const ring = ringOf(3);
    const report = await storedLostKeysCounter(store, silentLogger())(ring, "ds-1");
    assert.deepEqual(report, { ...model(albums, ring, "ds-1"), unreadableAlbums: 1 });
    assert.ok(report.keys > 0);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
