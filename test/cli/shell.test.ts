// The shell in non-interactive mode (standard input not a terminal), run as a
// child process against a real central server: one result line per command,
// clear one-line errors for misuse, and the exit status scripts rely on.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { CentralProcess, makeTempDir } from "../central/helpers/central-process.ts";
import { runClientScript, type ClientResult, type ClientRun } from "../support/client-script.ts";

function runShell(central: string, script: string[], json: boolean): Promise<ClientRun> {
  return runClientScript(["--central", central], script, { json });
}

async function runJson(
  central: string,
  script: string[],
): Promise<{ status: number | null; results: ClientResult[] }> {
  const run = await runShell(central, script, true);
  // Every line of standard output is one JSON result, nothing else.
  const results = run.lines.map((line) => JSON.parse(line) as ClientResult);
  return { status: run.status, results };
}

describe("the shell, non-interactive", () => {
  const temp = makeTempDir("albumshare-shell-");
  let server: CentralProcess;

  before(async () => {
    server = await CentralProcess.start(temp.dir);
  });

  after(async () => {
    await server.stop();
    temp.remove();
  });

  test("a full session with --json: one result per command, exit 0", async () => {
    const { status, results } = await runJson(server.address, [
      "register henry henry-password",
      "/login henry henry-password",
      "createAlbum road-trip",
      "/createAlbum photos_2026",
      "listAlbums",
      "logout",
    ]);
    assert.equal(status, 0);
    assert.deepEqual(
      results.map((r) => [r.command.replace(/^\//, ""), r.ok]),
      [
        ["register", true],
        ["login", true],
        ["createAlbum", true],
        ["createAlbum", true],
        ["listAlbums", true],
        ["logout", true],
      ],
    );
    const list = results[4]!;
    assert.ok(list.ok);
    const albums = (list.data as { albums: { name: string; memberCount: number }[] }).albums;
    assert.deepEqual(albums.map((a) => a.name).sort(), ["photos_2026", "road-trip"]);
    assert.ok(albums.every((a) => a.memberCount === 1));
    assert.match(list.text, /road-trip/);
  });

  test("plain text: one line per command, exit 0 when all succeed", async () => {
    const run = await runShell(
      server.address,
      [
        "register iris iris-password",
        "login iris iris-password",
        "createAlbum garden",
        "listAlbums",
        "logout",
      ],
      false,
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.lines.length, 5, run.lines.join("\n"));
    assert.match(run.lines[3]!, /garden/);
  });

  test("failures: duplicate, wrong password, not logged in; exit 1", async () => {
    const { status, results } = await runJson(server.address, [
      "register jack jack-password",
      "register jack jack-password",
      "login jack wrong-password",
      "listAlbums",
      "login jack jack-password",
      "createAlbum jacks",
      "createAlbum jacks",
      "logout",
      "createAlbum after-logout",
    ]);
    assert.equal(status, 1);
    assert.equal(results.length, 9);
    const codes = results.map((r) => (r.ok ? "ok" : r.code));
    assert.deepEqual(codes, [
      "ok",
      "already_exists",
      "unauthenticated",
      "unauthenticated",
      "ok",
      "ok",
      "already_exists",
      "ok",
      "unauthenticated",
    ]);
    const wrong = results[2]!;
    assert.ok(!wrong.ok);
    assert.match(wrong.error, /invalid name or password/);
  });

  test("an unknown command gets a suggestion; a wrong argument count gets the usage", async () => {
    const { status, results } = await runJson(server.address, [
      "logn kate kate-password",
      "login kate",
      "help login",
    ]);
    assert.equal(status, 1);
    const [unknown, arity, help] = results;
    assert.ok(unknown && !unknown.ok);
    assert.equal(unknown.code, "invalid_argument");
    assert.match(unknown.error, /unknown command 'logn'/);
    assert.match(unknown.error, /did you mean 'login'/);
    assert.ok(arity && !arity.ok);
    assert.match(arity.error, /usage: login <name> <password>/);
    assert.ok(help?.ok);
  });

  test("a single failing command makes the exit status 1 in plain text too", async () => {
    const run = await runShell(server.address, ["bogus"], false);
    assert.equal(run.status, 1);
    assert.equal(run.lines.length, 0, "nothing on standard output");
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0]!, /unknown command 'bogus'/);
  });

  test("album commands outside an editing session: one clear line each", async () => {
    const { status, results } = await runJson(server.address, [
      "register lena lena-password",
      "login lena lena-password",
      "listFiles",
      "putAlbum",
      "rateFile a.jpg 3",
      "hello there",
      "getAlbum no-such-album",
    ]);
    assert.equal(status, 1);
    assert.equal(results.length, 7);
    for (const result of results.slice(2, 5)) {
      assert.ok(!result.ok);
      assert.equal(result.code, "failed_precondition");
      assert.equal(result.error, "not in an editing session (getAlbum <album> first)");
    }
    const chat = results[5]!;
    assert.ok(!chat.ok, "outside a session a non-command stays an error");
    assert.match(chat.error, /unknown command 'hello'/);
    assert.ok(!results[6]!.ok);
  });

  test("an unreachable server gives one line naming the address tried", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const address = `127.0.0.1:${port}`;

    const text = await runShell(address, ["login nobody nobody-password"], false);
    assert.equal(text.status, 1);
    assert.equal(text.errors.length, 1, text.stderr);
    assert.match(text.errors[0]!, /unavailable/);
    assert.ok(text.errors[0]!.includes(address), text.errors[0]);

    const { status, results } = await runJson(address, ["register nobody nobody-password"]);
    assert.equal(status, 1);
    assert.equal(results.length, 1);
    const only = results[0]!;
    assert.ok(!only.ok);
    assert.equal(only.code, "unavailable");
    assert.ok(only.error.includes(address), only.error);
  });
});
