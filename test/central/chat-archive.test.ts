// The chat the central server keeps (src/central/sessions/chat-archive.ts):
// editors hand off what they delivered, overlapping and in any interleaving;
// every message is kept once, in an order that never puts a message before
// one it follows, and the archive keeps only the newest N and nothing older
// than its age bound.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CentralStore } from "../../src/central/central-store.ts";
import { ChatArchive, type ArchivedChat } from "../../src/central/sessions/chat-archive.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { makeTempDir } from "./helpers/central-process.ts";

const EPOCH = 3;

/** A causal sequence of messages from 3 senders: message i may answer any before it. */
function conversation(length: number): ArchivedChat[] {
  const seqs = [0, 0, 0];
  return Array.from({ length }, (_, i) => {
    const slot = (i * 7) % 3;
    seqs[slot]!++;
    const sender = ["ann", "bob", "cy"][slot]!;
    return {
      epoch: EPOCH,
      slot: slot + 1,
      seq: seqs[slot]!,
      sender,
      text: `m${i}`,
      sentAtUnixMs: i,
    };
  });
}

describe("chat kept by the central server", () => {
  const temp = makeTempDir("albumshare-chat-archive-");
  const store = CentralStore.open(temp.dir);
  store.database.pragma("synchronous = OFF");
  let albums = 0;
  const newAlbum = (): string => {
    const name = `chat${albums++}`;
    store.insertAlbum(name, "ann", null, ["ann"]);
    return name;
  };

  after(() => {
    store.close();
    temp.remove();
  });

  test("overlapping hand-offs of delivered prefixes: each message once, in a causal order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // Each hand-off: an editor (0-2) that has delivered up to some point.
        fc.array(fc.record({ editor: fc.nat(2), delivered: fc.nat(40) }), { maxLength: 30 }),
        (length, handOffs) => {
          const album = newAlbum();
          const archive = new ChatArchive(store.database, { maxMessages: 1000 });
          const messages = conversation(length);
          const acknowledged = [0, 0, 0];
          const delivered = [0, 0, 0];
          for (const { editor, delivered: upTo } of handOffs) {
            // An editor's delivery only grows; it hands off what no ack covered.
            delivered[editor] = Math.max(delivered[editor]!, Math.min(upTo, length));
            archive.store(album, EPOCH, messages.slice(acknowledged[editor], delivered[editor]));
            acknowledged[editor] = delivered[editor]!;
          }
          const kept = archive.history(album, EPOCH + 1).map((m) => m.text);
          const expected = messages.slice(0, Math.max(...delivered)).map((m) => m.text);
          assert.deepEqual(kept, expected);
        },
      ),
      { seed: 5, numRuns: 200 },
    );
  });

  test("bounded: the newest N messages, none older than the age bound, earlier sessions only", () => {
    let now = 1_000_000;
    const album = newAlbum();
    const archive = new ChatArchive(store.database, {
      maxMessages: 10,
      maxAgeMs: 5000,
      now: () => now,
    });
    const messages = conversation(25);
    archive.store(album, EPOCH, messages.slice(0, 15));
    assert.equal(archive.count(album), 10, "pruned to the bound when written");
    assert.deepEqual(
      archive.history(album, EPOCH + 1).map((m) => m.text),
      messages.slice(5, 15).map((m) => m.text),
    );
    assert.deepEqual(
      archive.history(album, EPOCH),
      [],
      "the current session's chat comes from peers",
    );
    now += 4000;
    archive.store(album, EPOCH, messages.slice(15, 18));
    now += 2000; // the first batch is now 6 s old
    assert.deepEqual(
      archive.history(album, EPOCH + 1).map((m) => m.text),
      ["m15", "m16", "m17"],
    );
  });

  test("a malformed batch is refused whole", () => {
    const album = newAlbum();
    const archive = new ChatArchive(store.database);
    const [good] = conversation(1);
    for (const bad of [
      { ...good!, sender: "" },
      { ...good!, slot: 0 },
      { ...good!, seq: 0 },
      { ...good!, text: "x".repeat(5000) },
      { ...good!, epoch: EPOCH + 1 },
      { ...good!, sentAtUnixMs: -1 },
    ]) {
      assert.throws(
        () => archive.store(album, EPOCH, [good!, bad]),
        (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.InvalidArgument,
      );
    }
    assert.equal(archive.count(album), 0);
  });
});
