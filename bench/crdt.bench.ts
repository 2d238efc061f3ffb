// Album CRDT next to Automerge and Yjs, the same album history replayed in
// each: encoded state size after many users have each edited in their own
// session, size of one update, and the time to merge two 10,000-file replicas.
// Automerge and Yjs keep per-user identities (actor ids, client ids) forever;
// our replica folds its causal history at the end of each session.
import { createHash } from "node:crypto";
import * as Automerge from "@automerge/automerge";
import * as Y from "yjs";
import type { Benchmark, BenchRow } from "./harness.ts";
import {
  addFile,
  addMember,
  cloneState,
  compact,
  createAlbumState,
  decodeState,
  encodeDelta,
  encodeState,
  join,
  listFiles,
  rateFile,
  removeFile,
  type AlbumState,
} from "../src/crdt/index.ts";

type AlbumDoc = {
  files: Record<string, { contentKey: string; size: number; addedBy: string }>;
  members: Record<string, boolean>;
  ratings: Record<string, number>;
};

const hash = (text: string): string => createHash("sha256").update(text).digest("hex");
const user = (i: number): string => `user${String(i).padStart(4, "0")}`;
const fileName = (i: number): string => `photo-${String(i).padStart(5, "0")}.jpg`;
const contentKey = (i: number): string => hash(`content ${i}`);
// Session identities as the libraries make them: 16 random bytes, 32 random bits.
const actorOf = (session: number): string => hash(`actor ${session}`).slice(0, 32);
const clientOf = (session: number): number => parseInt(hash(`client ${session}`).slice(0, 8), 16);

/** One session per user: add a file, rate the previous one, invite the next user. */
function historyOurs(users: number): AlbumState {
  let state = createAlbumState(user(0));
  for (let i = 0; i < users; i++) {
    const editor = { slot: 1, user: user(i) };
    addFile(state, editor, { name: fileName(i), contentKey: contentKey(i), size: 100_000 + i });
    rateFile(state, editor, fileName(Math.max(0, i - 1)), i % 6);
    addMember(state, editor, user(i + 1));
    state = compact(state);
  }
  return state;
}

function historyAutomerge(users: number): Uint8Array {
  let saved = Automerge.save(
    Automerge.from<AlbumDoc>({ files: {}, members: { [user(0)]: true }, ratings: {} }, actorOf(-1)),
  );
  for (let i = 0; i < users; i++) {
    // A session loads the album, edits under its own actor, and hands it back.
    let doc = Automerge.load<AlbumDoc>(saved, actorOf(i));
    doc = Automerge.change(doc, (d) => {
      d.files[fileName(i)] = { contentKey: contentKey(i), size: 100_000 + i, addedBy: user(i) };
      d.ratings[`${fileName(Math.max(0, i - 1))}/${user(i)}`] = i % 6;
      d.members[user(i + 1)] = true;
    });
    saved = Automerge.save(doc);
  }
  return saved;
}

function historyYjs(users: number): Uint8Array {
  const seed = new Y.Doc();
  seed.clientID = clientOf(-1);
  seed.getMap("members").set(user(0), true);
  let saved = Y.encodeStateAsUpdate(seed);
  for (let i = 0; i < users; i++) {
    const doc = new Y.Doc();
    doc.clientID = clientOf(i);
    Y.applyUpdate(doc, saved);
    doc.transact(() => {
      doc
        .getMap("files")
        .set(fileName(i), { contentKey: contentKey(i), size: 100_000 + i, addedBy: user(i) });
      doc.getMap("ratings").set(`${fileName(Math.max(0, i - 1))}/${user(i)}`, i % 6);
      doc.getMap("members").set(user(i + 1), true);
    });
    saved = Y.encodeStateAsUpdate(doc);
  }
  return saved;
}

function oneUpdateSizes(): { ours: number; automerge: number; yjs: number } {
  const base = historyOurs(10);
  const delta = addFile(
    cloneState(base),
    { slot: 1, user: user(10) },
    {
      name: "new.jpg",
      contentKey: contentKey(-5),
      size: 123_456,
    },
  );
  let doc = Automerge.load<AlbumDoc>(historyAutomerge(10), actorOf(99));
  doc = Automerge.change(doc, (d) => {
    d.files["new.jpg"] = { contentKey: contentKey(-5), size: 123_456, addedBy: user(10) };
  });
  const ydoc = new Y.Doc();
  ydoc.clientID = clientOf(99);
  Y.applyUpdate(ydoc, historyYjs(10));
  let update: Uint8Array = new Uint8Array();
  ydoc.on("update", (bytes: Uint8Array) => (update = bytes));
  ydoc
    .getMap("files")
    .set("new.jpg", { contentKey: contentKey(-5), size: 123_456, addedBy: user(10) });
  return {
    ours: encodeDelta(delta).length,
    automerge: Automerge.getLastLocalChange(doc)!.length,
    yjs: update.length,
  };
}

// ---- merging two 10,000-file replicas -------------------------------------------

const FILES = 10_000;
const DIVERGENCE = 200;

interface Replicas<T> {
  a: T;
  b: T;
}

/** A common 10,000-file album, then each side adds, removes and rates concurrently. */
function replicasOurs(): Replicas<AlbumState> {
  let state = createAlbumState(user(0));
  addMember(state, { slot: 1, user: user(0) }, user(1));
  const owner = { slot: 1, user: user(0) };
  for (let i = 0; i < FILES; i++)
    addFile(state, owner, { name: fileName(i), contentKey: contentKey(i), size: i });
  state = compact(state);
  const a = cloneState(state);
  const b = cloneState(state);
  for (const [replica, slot, offset] of [
    [a, 1, 0],
    [b, 2, 1],
  ] as const) {
    const editor = { slot, user: user(slot - 1) };
    for (let i = 0; i < DIVERGENCE; i++) {
      addFile(replica, editor, {
        name: `new-${slot}-${i}.jpg`,
        contentKey: contentKey(FILES + slot * DIVERGENCE + i),
        size: i,
      });
      rateFile(replica, editor, fileName(2 * i + offset), i % 6);
      removeFile(replica, editor, fileName(FILES - 1 - 2 * i - offset));
    }
  }
  return { a, b };
}

function replicasAutomerge(): Replicas<Automerge.Doc<AlbumDoc>> {
  let base = Automerge.from<AlbumDoc>(
    { files: {}, members: { [user(0)]: true, [user(1)]: true }, ratings: {} },
    actorOf(-1),
  );
  base = Automerge.change(base, (d) => {
    for (let i = 0; i < FILES; i++)
      d.files[fileName(i)] = { contentKey: contentKey(i), size: i, addedBy: user(0) };
  });
  const saved = Automerge.save(base);
  const side = (slot: number, offset: number): Automerge.Doc<AlbumDoc> =>
    Automerge.change(Automerge.load<AlbumDoc>(saved, actorOf(slot)), (d) => {
      for (let i = 0; i < DIVERGENCE; i++) {
        d.files[`new-${slot}-${i}.jpg`] = {
          contentKey: contentKey(FILES + slot * DIVERGENCE + i),
          size: i,
          addedBy: user(slot - 1),
        };
        d.ratings[`${fileName(2 * i + offset)}/${user(slot - 1)}`] = i % 6;
        delete d.files[fileName(FILES - 1 - 2 * i - offset)];
      }
    });
  return { a: side(1, 0), b: side(2, 1) };
}

function replicasYjs(): Replicas<Uint8Array> {
  const base = new Y.Doc();
  base.clientID = clientOf(-1);
  base.transact(() => {
    base.getMap("members").set(user(0), true);
    base.getMap("members").set(user(1), true);
    for (let i = 0; i < FILES; i++)
      base
        .getMap("files")
        .set(fileName(i), { contentKey: contentKey(i), size: i, addedBy: user(0) });
  });
  const saved = Y.encodeStateAsUpdate(base);
  const side = (slot: number, offset: number): Uint8Array => {
    const doc = new Y.Doc();
    doc.clientID = clientOf(slot);
    Y.applyUpdate(doc, saved);
    doc.transact(() => {
      for (let i = 0; i < DIVERGENCE; i++) {
        doc.getMap("files").set(`new-${slot}-${i}.jpg`, {
          contentKey: contentKey(FILES + slot * DIVERGENCE + i),
          size: i,
          addedBy: user(slot - 1),
        });
        doc.getMap("ratings").set(`${fileName(2 * i + offset)}/${user(slot - 1)}`, i % 6);
        doc.getMap("files").delete(fileName(FILES - 1 - 2 * i - offset));
      }
    });
    return Y.encodeStateAsUpdate(doc);
  };
  return { a: side(1, 0), b: side(2, 1) };
}

/** Median of `runs` timings of `measure`, whose setup is excluded by the callback. */
function medianMs(runs: number, measure: () => number): number {
  const times = Array.from({ length: runs }, measure).sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

function time(action: () => unknown): number {
  const start = performance.now();
  action();
  return performance.now() - start;
}

const benchmark: Benchmark = {
  id: "crdt",
  title: "Album CRDT vs Automerge 3.5 and Yjs 13.6 (same album history)",
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const users of [1, 5, 10, 100, 1000]) {
      const ours = encodeState(historyOurs(users)).length;
      const automerge = historyAutomerge(users).length;
      const yjs = historyYjs(users).length;
      const goal = users > 5 ? "< 1x" : "";
      rows.push({
        name: `state after ${users} users (1 session each)`,
        value: ours,
        unit: "B",
        baseline: automerge,
        baselineName: "Automerge save()",
        goal,
      });
      rows.push({
        name: `state after ${users} users (1 session each)`,
        value: ours,
        unit: "B",
        baseline: yjs,
        baselineName: "Yjs state update",
        goal,
      });
    }

    const update = oneUpdateSizes();
    rows.push({
      name: "one addFile update",
      value: update.ours,
      unit: "B",
      baseline: update.automerge,
      baselineName: "Automerge change",
    });
    rows.push({
      name: "one addFile update",
      value: update.ours,
      unit: "B",
      baseline: update.yjs,
      baselineName: "Yjs update",
    });

    const ours = replicasOurs();
    const automerge = replicasAutomerge();
    const yjs = replicasYjs();
    const oursBytesB = encodeState(ours.b);
    // Sanity: all three agree on the merged album.
    const mergedOurs = listFiles(join(ours.a, ours.b)).length;
    const mergedAutomerge = Object.keys(
      Automerge.merge(Automerge.clone(automerge.a), automerge.b).files,
    ).length;
    if (mergedOurs !== mergedAutomerge)
      throw new Error(`merge disagrees: ${mergedOurs} vs ${mergedAutomerge}`);

    rows.push({
      name: "10,000-file album state",
      value: encodeState(ours.a).length,
      unit: "B",
      baseline: Automerge.save(automerge.a).length,
      baselineName: "Automerge save()",
    });
    rows.push({
      name: "10,000-file album state",
      value: encodeState(ours.a).length,
      unit: "B",
      baseline: yjs.a.length,
      baselineName: "Yjs state update",
    });

    const oursInMemory = medianMs(15, () => time(() => join(ours.a, ours.b)));
    const automergeInMemory = medianMs(5, () => {
      const local = Automerge.clone(automerge.a);
      return time(() => Automerge.merge(local, automerge.b));
    });
    rows.push({
      name: "merge two 10,000-file replicas, in memory",
      value: oursInMemory,
      unit: "ms",
      baseline: automergeInMemory,
      baselineName: "Automerge merge",
      goal: "< 100 ms",
    });

    const oursFromBytes = medianMs(15, () => time(() => join(ours.a, decodeState(oursBytesB))));
    const yjsFromBytes = medianMs(5, () => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, yjs.a);
      return time(() => Y.applyUpdate(doc, yjs.b));
    });
    rows.push({
      name: "merge two 10,000-file replicas, other side as bytes",
      value: oursFromBytes,
      unit: "ms",
      baseline: yjsFromBytes,
      baselineName: "Yjs applyUpdate",
      goal: "< 100 ms",
    });

    const decodeOurs = medianMs(9, () => time(() => decodeState(oursBytesB)));
    const encodeOurs = medianMs(9, () => time(() => encodeState(ours.b)));
    rows.push({
      name: "encode 10,000-file state",
      value: encodeOurs,
      unit: "ms",
      baseline: medianMs(5, () => time(() => Automerge.save(automerge.b))),
      baselineName: "Automerge save()",
    });
    rows.push({
      name: "decode 10,000-file state",
      value: decodeOurs,
      unit: "ms",
      baseline: medianMs(5, () => time(() => Automerge.load(Automerge.save(automerge.b)))),
      baselineName: "Automerge load()",
    });
    return rows;
  },
};

export default benchmark;
