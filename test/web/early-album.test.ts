// What a page sees of an album while its session opens: the central
// server's replica decoded into the same view the open session gives (files
// with their FileIds, members, the other editors, our ratings) and never a
// content key; and the tapped central connection hands getAlbum's reply on
// before the session continues, while everything else reaches the
// connection itself.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { OpenedAlbum } from "../../src/client/central-client.ts";
import type { SessionCentral } from "../../src/client/session/session-central.ts";
import {
  addFile,
  addMember,
  compact,
  createAlbumState,
  encodeState,
  listFiles,
  type FileMedia,
} from "../../src/crdt/index.ts";
import { mergeInto } from "../../src/crdt/album-join.ts";
import { albumView } from "../../src/web/album-view.ts";
import { EarlyAlbum, tapGetAlbum } from "../../src/web/early-album.ts";
import { RenditionTags } from "../../src/web/rendition-tag.ts";
import { hexKey } from "../support/content-key-arbitrary.ts";

const editor = { slot: 1, user: "alice" };
const added = fc.record({
  name: fc.stringMatching(/^[a-z]{1,8}\.(jpg|mov|txt)$/),
  contentKey: hexKey,
  thumbnailKey: hexKey,
  previewKey: hexKey,
});

function openedWith(
  files: { name: string; contentKey: string; thumbnailKey: string; previewKey: string }[],
  members: string[],
): { opened: OpenedAlbum; keys: string[] } {
  const state = compact(createAlbumState("alice"));
  for (const member of members) mergeInto(state, addMember(state, editor, member));
  const keys: string[] = [];
  for (const file of files) {
    const media: FileMedia = {
      kind: "image",
      thumbnailKey: file.thumbnailKey,
      previewKey: file.previewKey,
    };
    try {
      mergeInto(
        state,
        addFile(state, editor, { name: file.name, contentKey: file.contentKey, size: 1, media }),
      );
      keys.push(file.contentKey, file.thumbnailKey, file.previewKey);
    } catch {
      // The same name twice: the CRDT refuses it, as a session would.
    }
  }
  const rated = listFiles(state)
    .filter((_, index) => index % 2 === 0)
    .map((file) => file.fileId);
  const opened = {
    album: "trip",
    slot: 3,
    sessionId: 1n,
    replica: encodeState(state),
    ratedFileIds: rated,
    editors: [
      { slot: 2, user: "bob", address: "127.0.0.1:1", publicKey: new Uint8Array(32) },
      { slot: 3, user: "alice", address: "", publicKey: new Uint8Array(32) },
    ],
    handOffIntervalMs: 1000,
    sessionToken: new Uint8Array(16),
    ratingTallies: new Map(),
    highestSlot: 3,
    pastEditors: [],
    resumeKey: new Uint8Array(0),
    chatHistory: [],
    resumeGraceMs: 0,
    chatSeq: 0,
  } satisfies OpenedAlbum;
  return { opened, keys };
}

test("the early view is the replica's files, members and other editors, without a key", () => {
  const tags = new RenditionTags();
  fc.assert(
    fc.property(
      fc.array(added, { maxLength: 12 }),
      fc.uniqueArray(fc.constantFrom("bob", "carol", "dan"), { maxLength: 3 }),
      (files, members) => {
        const { opened, keys } = openedWith(files, members);
        const early = new EarlyAlbum(opened, "alice");
        const view = albumView(early, new Map(), (file) => tags.of(file));
        assert.deepEqual(view.members.sort(), ["alice", ...members].sort());
        assert.deepEqual(view.editors, [
          { user: "bob", slot: 2 },
          { user: "alice", slot: 3 },
        ]);
        assert.equal(view.slot, 3);
        const expected = new Set(files.map((file) => file.name));
        assert.deepEqual(new Set(view.files.map((file) => file.name)), expected);
        for (const [index, file] of view.files.entries()) {
          assert.equal(file.rated, index % 2 === 0, file.name);
          assert.equal(file.thumbnail, true);
        }
        const json = JSON.stringify(view);
        for (const key of keys) assert.ok(!json.includes(key), "a content key reached the view");
      },
    ),
    { numRuns: 60 },
  );
});

/** A central connection whose private state a badly forwarded call would not reach. */
class FakeCentral {
  readonly #calls: string[] = [];
  #closed = false;
  constructor(readonly opened: OpenedAlbum) {}
  get isClosed(): boolean {
    return this.#closed;
  }
  get calls(): string[] {
    return this.#calls;
  }
  getAlbum(): Promise<OpenedAlbum> {
    this.#calls.push("getAlbum");
    return Promise.resolve(this.opened);
  }
  announceEditor(album: string, address: string): Promise<void> {
    this.#calls.push(`announce ${album} ${address}`);
    return Promise.resolve();
  }
  close(): void {
    this.#closed = true;
  }
}

test("the tapped connection hands getAlbum's reply on first and forwards the rest", async () => {
  const { opened } = openedWith([], []);
  const fake = new FakeCentral(opened);
  const order: string[] = [];
  let release!: () => void;
  const tapped = tapGetAlbum(fake as unknown as SessionCentral, (reply) => {
    assert.equal(reply, opened);
    order.push("seen");
    return new Promise<void>((resolve) => (release = resolve));
  });
  const getting = tapped.getAlbum("trip", new Uint8Array(32)).then((reply) => {
    order.push("returned");
    return reply;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["seen"], "the session waits while the early view is served");
  release();
  assert.equal(await getting, opened);
  assert.deepEqual(order, ["seen", "returned"]);
  await tapped.announceEditor("trip", "127.0.0.1:9");
  assert.deepEqual(fake.calls, ["getAlbum", "announce trip 127.0.0.1:9"]);
  assert.equal(tapped.isClosed, false);
  fake.close();
  assert.equal(tapped.isClosed, true);
});

test("a failing early view never fails the open; a failing getAlbum is not seen", async () => {
  const { opened } = openedWith([], []);
  const tapped = tapGetAlbum(new FakeCentral(opened) as unknown as SessionCentral, () =>
    Promise.reject(new Error("cannot decode")),
  );
  assert.equal(await tapped.getAlbum("trip", new Uint8Array(32)), opened);
  const failing = new FakeCentral(opened);
  failing.getAlbum = () => Promise.reject(new Error("not a member"));
  let seen = false;
  const tappedFailing = tapGetAlbum(failing as unknown as SessionCentral, () => {
    seen = true;
    return Promise.resolve();
  });
  await assert.rejects(tappedFailing.getAlbum("trip", new Uint8Array(32)), /not a member/);
  assert.equal(seen, false);
});
