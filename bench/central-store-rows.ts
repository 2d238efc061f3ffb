// The central store's own cost, in process, for `npm run bench -- central`:
// the lookups a logged-in client's requests make (user, album, membership,
// the album list) through CentralStore, against the same SQL prepared once
// and run on a bare better-sqlite3 connection to the same file — the ceiling
// for a store that adds nothing to SQLite. Reads only, so the figure is the
// statements' cost, not fsync's.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CentralStore } from "../src/central/central-store.ts";
import { opsPerSecond, type BenchRow } from "./harness.ts";

const USERS = 200;
const ALBUMS_PER_USER = 5;
const ROUNDS = 3;
const ROUND_MS = 700;

export async function centralStoreRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "albumshare-bench-store-"));
  const store = CentralStore.open(dir);
  const bare = new Database(join(dir, "central.sqlite3"), { readonly: true });
  try {
    // Nothing here is about durability: fill the file fast.
    store.database.pragma("synchronous = OFF");
    for (let u = 0; u < USERS; u++) {
      store.insertUser(`user${u}`, "hash");
      for (let a = 0; a < ALBUMS_PER_USER; a++)
        store.insertAlbum(`user${u}/album${a}`, `user${u}`, new Uint8Array(64), [
          `user${u}`,
          `user${(u + 1) % USERS}`,
        ]);
    }
    const findUser = bare.prepare(
      "SELECT name, password_hash AS passwordHash FROM users WHERE name = ?",
    );
    const findAlbum = bare.prepare(
      `SELECT rowid AS id, name, created_by AS createdBy, replica, session_open AS sessionOpen
       FROM albums WHERE name = ?`,
    );
    const isMember = bare.prepare("SELECT 1 FROM album_members WHERE album = ? AND user = ?");
    const albumsOf = bare.prepare(
      `SELECT a.name AS name, (SELECT COUNT(*) FROM album_members m2 WHERE m2.album = a.name) AS memberCount
       FROM album_members m JOIN albums a ON a.name = m.album
       WHERE m.user = ? ORDER BY a.name`,
    );
    let i = 0;
    let sink = 0;
    const viaStore = (): void => {
      const user = `user${i++ % USERS}`;
      const album = `${user}/album${i % ALBUMS_PER_USER}`;
      sink += store.findUser(user) ? 1 : 0;
      sink += store.findAlbum(album) ? 1 : 0;
      sink += store.isMember(album, user) ? 1 : 0;
      sink += store.albumsOf(user).length;
    };
    const viaBare = (): void => {
      const user = `user${i++ % USERS}`;
      const album = `${user}/album${i % ALBUMS_PER_USER}`;
      sink += findUser.get(user) ? 1 : 0;
      sink += findAlbum.get(album) ? 1 : 0;
      sink += isMember.get(album, user) ? 1 : 0;
      sink += albumsOf.all(user).length;
    };
    // Alternating rounds, best of each: the machine's noise hits both alike.
    let storeRate = 0;
    let bareRate = 0;
    for (let round = 0; round < ROUNDS; round++) {
      storeRate = Math.max(storeRate, await opsPerSecond(viaStore, ROUND_MS, 100));
      bareRate = Math.max(bareRate, await opsPerSecond(viaBare, ROUND_MS, 100));
    }
    if (sink < 0) throw new Error("unreachable");
    return [
      {
        name: "CentralStore lookups (findUser+findAlbum+isMember+albumsOf), in process",
        value: storeRate,
        unit: "rounds/s",
        baseline: bareRate,
        baselineName: "the same SQL prepared once, bare better-sqlite3",
        higherIsBetter: true,
        goal: ">= 0.8x (the store adds little to SQLite)",
      },
    ];
  } finally {
    bare.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
