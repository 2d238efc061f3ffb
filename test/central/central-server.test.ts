// The real central server, started as a process on an ephemeral port and driven
// through the real client library: registration rules, login, albums, and the
// login requirement on every user and album command.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, type AlbumError } from "../../src/common/album-error.ts";
import { CentralClient } from "../../src/client/central-client.ts";
import { withCode } from "./helpers/album-error-assertions.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";

describe("central server through the client library", () => {
  const temp = makeTempDir("albumshare-central-");
  let server: CentralProcess;
  const clients: CentralClient[] = [];
  const connect = async (): Promise<CentralClient> => {
    const client = await CentralClient.connect({ address: server.address });
    clients.push(client);
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

  test("register, duplicate register, login, albums, logout", async () => {
    const alice = await connect();
    await alice.register("alice", "correct horse");
    await assert.rejects(
      alice.register("alice", "another password"),
      withCode(ErrorCode.AlreadyExists),
    );

    assert.equal(await alice.login("alice", "correct horse"), "alice");
    assert.equal(await alice.userExists("alice"), true);
    assert.equal(await alice.userExists("nobody-here"), false);

    assert.deepEqual(await alice.listAlbums(), []);
    await alice.createAlbum("holidays-2026");
    await alice.createAlbum("Family.Photos_1");
    await assert.rejects(alice.createAlbum("holidays-2026"), withCode(ErrorCode.AlreadyExists));
    const albums = await alice.listAlbums();
    assert.deepEqual(albums.map((a) => a.name).sort(), ["Family.Photos_1", "holidays-2026"]);
    for (const album of albums) assert.equal(album.memberCount, 1);

    await alice.logout();
    await assert.rejects(alice.listAlbums(), withCode(ErrorCode.Unauthenticated));
    await assert.rejects(alice.createAlbum("after-logout"), withCode(ErrorCode.Unauthenticated));
  });

  test("wrong password and unknown user get the same answer", async () => {
    const client = await connect();
    await client.register("bob", "bob-password");
    let wrongPassword: AlbumError | undefined;
    let unknownUser: AlbumError | undefined;
    await assert.rejects(client.login("bob", "not-bobs-password"), (e: unknown) => {
      wrongPassword = e as AlbumError;
      return withCode(ErrorCode.Unauthenticated, /invalid name or password/)(e);
    });
    await assert.rejects(client.login("no-such-user", "whatever-pass"), (e: unknown) => {
      unknownUser = e as AlbumError;
      return withCode(ErrorCode.Unauthenticated, /invalid name or password/)(e);
    });
    assert.equal(wrongPassword!.message, unknownUser!.message);
    assert.equal(wrongPassword!.code, unknownUser!.code);
    // A failed login does not log the connection in.
    await assert.rejects(client.listAlbums(), withCode(ErrorCode.Unauthenticated));
  });

  test("bad names and short passwords are invalid arguments", async () => {
    const client = await connect();
    for (const name of ["", "has space", "x".repeat(33), "slash/name", "émile", "semi;colon"]) {
      await assert.rejects(
        client.register(name, "long enough password"),
        withCode(ErrorCode.InvalidArgument),
        `name ${JSON.stringify(name)}`,
      );
    }
    for (const password of ["", "short", "1234567"]) {
      await assert.rejects(
        client.register("carol", password),
        withCode(ErrorCode.InvalidArgument),
        `password of ${password.length} characters`,
      );
    }
    // None of them created the user.
    await assert.rejects(
      client.login("carol", "long enough password"),
      withCode(ErrorCode.Unauthenticated, /invalid name or password/),
    );
  });

  test("bad album names are invalid arguments", async () => {
    const client = await connect();
    await client.register("dave", "dave-password");
    await client.login("dave", "dave-password");
    for (const name of ["", "x".repeat(65), "a/b", " padded", "bell\u0007", "rtl\u202eoverride"]) {
      await assert.rejects(
        client.createAlbum(name),
        withCode(ErrorCode.InvalidArgument),
        `album ${JSON.stringify(name)}`,
      );
    }
    await client.createAlbum("x".repeat(64));
    assert.deepEqual(
      (await client.listAlbums()).map((a) => a.name),
      ["x".repeat(64)],
    );
  });

  test("every user and album command needs a login", async () => {
    const client = await connect();
    await assert.rejects(client.createAlbum("nope"), withCode(ErrorCode.Unauthenticated));
    await assert.rejects(client.listAlbums(), withCode(ErrorCode.Unauthenticated));
    await assert.rejects(client.userExists("alice"), withCode(ErrorCode.Unauthenticated));
    await assert.rejects(client.logout(), withCode(ErrorCode.Unauthenticated));
  });

  test("albums are listed per member only", async () => {
    const erin = await connect();
    await erin.register("erin", "erin-password");
    await erin.login("erin", "erin-password");
    await erin.createAlbum("erins-album");
    const frank = await connect();
    await frank.register("frank", "frank-password");
    await frank.login("frank", "frank-password");
    assert.deepEqual(await frank.listAlbums(), []);
    // Album names are unique per creator (test/central/album-names.test.ts).
    await assert.rejects(erin.createAlbum("erins-album"), withCode(ErrorCode.AlreadyExists));
    assert.deepEqual(
      (await erin.listAlbums()).map((a) => a.name),
      ["erins-album"],
    );
  });
});
