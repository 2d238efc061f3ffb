// Album names as people write them, against the real central server: spaces
// and letters of any language, unique per creator (alice and bob may both
// have "trip"), `getAlbum creator/name` when two albums one can see share a
// name (the shell's side of it: test/cli/shell-person.test.ts).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorCode } from "../../src/common/album-error.ts";
import { CentralClient } from "../../src/client/central-client.ts";
import { checkAlbumName } from "../../src/central/name-rules.ts";
import { withCode } from "./helpers/album-error-assertions.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";

// The central server records a peer key as 32 opaque bytes; random bytes make
// one without the cost of key generation.
const freshKey = (): Uint8Array => new Uint8Array(randomBytes(32));

describe("album names", () => {
  const temp = makeTempDir("albumshare-album-names-");
  let server: CentralProcess;
  const clients: CentralClient[] = [];
  const user = async (name: string): Promise<CentralClient> => {
    const client = await CentralClient.connect({ address: server.address });
    clients.push(client);
    await client.register(name, `${name}-password`);
    await client.login(name, `${name}-password`);
    return client;
  };

  before(async () => {
    server = await CentralProcess.start(temp.dir);
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
    temp.remove();
  });

  test("spaces and letters of any language", async () => {
    const alice = await user("alice");
    for (const name of ["summer 2024", "été à Zürich", "夏休み", "Ἀθῆναι 2025"]) {
      await alice.createAlbum(name);
    }
    assert.deepEqual(
      (await alice.listAlbums()).map((a) => a.name).sort(),
      ["summer 2024", "Ἀθῆναι 2025", "été à Zürich", "夏休み"].sort(),
    );
    const opened = await alice.getAlbum("summer 2024", freshKey());
    assert.equal(opened.album, "summer 2024");
  });

  test("unique per creator: bob may have a 'trip' too; getAlbum bob/trip when ambiguous", async () => {
    const bob = await user("bob");
    const carol = await user("carol");
    await carol.createAlbum("trip");
    await bob.createAlbum("trip");
    await assert.rejects(bob.createAlbum("trip"), withCode(ErrorCode.AlreadyExists));
    const listed = await bob.listAlbums();
    assert.deepEqual(listed, [
      { name: "bob/trip", memberCount: 1, editorCount: 0, creator: "bob" },
    ]);
    // bob sees one "trip": the plain name is enough.
    assert.equal((await bob.getAlbum("trip", freshKey())).album, "bob/trip");
    assert.equal((await carol.getAlbum("trip", freshKey())).album, "trip");
    // A member of neither gets "not a member", not somebody else's album.
    const dave = await user("dave");
    await assert.rejects(
      dave.getAlbum("carol/trip", freshKey()),
      withCode(ErrorCode.PermissionDenied),
    );
  });

  test("the rule: bounded, no control or invisible characters, no slash, no outer spaces", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 64 }), (name) => {
        let accepted: string | undefined;
        try {
          accepted = checkAlbumName(name);
        } catch {
          return;
        }
        assert.doesNotMatch(accepted, /[\p{Cc}\p{Cf}/\\]/u);
        assert.equal(accepted.trim(), accepted);
        assert.ok([...accepted].length <= 64);
      }),
    );
    assert.equal(checkAlbumName("Cafe\u0301"), "Café", "one spelling (NFC)");
  });
});
