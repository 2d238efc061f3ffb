// The interactive shell on a terminal (a pseudo-terminal through `script`):
// Ctrl-C clears the line and quits only when asked twice; passwords are asked
// for without echo and never kept in the history, which lasts across runs;
// tab completion after `help ` and of local paths, with a space after a
// completed word; the prompt follows the session and the connection.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CentralProcess, makeTempDir } from "../central/helpers/central-process.ts";
import { ShellClient } from "../session/helpers/local-system.ts";
import { CTRL_C, CTRL_D, PtyShell } from "./helpers/pty-shell.ts";

describe("the shell on a terminal", () => {
  const temp = makeTempDir("albumshare-terminal-");
  const state = join(temp.dir, "state");
  const env = { XDG_STATE_HOME: state, HOME: temp.dir };
  let central: CentralProcess;
  const shells: PtyShell[] = [];
  const clients: ShellClient[] = [];

  const shell = (columns = 100): PtyShell => {
    const started = PtyShell.start(["client", "--central", central.address], { env, columns });
    shells.push(started);
    return started;
  };

  before(async () => {
    central = await CentralProcess.start(join(temp.dir, "central"));
  });

  after(async () => {
    for (const started of shells) await started.kill();
    for (const client of clients) await client.kill9();
    await central.stop();
    temp.remove();
  });

  test("6: Ctrl-C clears a typed line; on an empty line it hints, and a second one quits", async () => {
    const pty = shell();
    await pty.waitFor(/albumshare> $/, "the prompt");
    pty.type("some half-typed text");
    await pty.waitFor(/half-typed text$/, "the typed text");
    pty.type(CTRL_C);
    const mark = pty.text.length;
    await pty.waitFor(/albumshare> $/, "a fresh prompt", mark);
    pty.type("help quit\r");
    await pty.waitFor(/quit\n {2}leave the shell/, "help for quit", mark);
    assert.doesNotMatch(pty.text.slice(mark), /unknown command/);
    const empty = pty.text.length;
    pty.type(CTRL_C);
    await pty.waitFor(/Ctrl-C again on an empty line/, "the hint", empty);
    assert.equal(pty.child.exitCode, null, "one Ctrl-C on an empty line does not quit");
    pty.type(CTRL_C);
    assert.equal(await pty.exited(), 0);
  });

  test("6: Ctrl-D quits", async () => {
    const pty = shell();
    await pty.waitFor(/albumshare> $/, "the prompt");
    pty.type(CTRL_D);
    assert.equal(await pty.exited(), 0);
  });

  test("7: passwords are asked for without echo, twice to register, and never kept", async () => {
    const pty = shell();
    await pty.waitFor(/albumshare> $/, "the prompt");
    pty.type("register tina\r");
    await pty.waitFor(/password: $/, "the password prompt");
    pty.type("tinas-secret-1\r");
    await pty.waitFor(/password again: $/, "the second prompt");
    pty.type("tinas-secret-1\r");
    await pty.waitFor(/registered 'tina'/, "registered");
    pty.type("login tina\r");
    const mark = pty.text.length;
    await pty.waitFor(/password: $/, "the password prompt", mark);
    pty.type("tinas-secret-1\r");
    await pty.waitFor(/albumshare\(tina\)> $/, "logged in", mark);
    pty.type("register other other-secret-2\r");
    await pty.waitFor(/registered 'other'/, "registered on the command line");
    pty.type("quit\r");
    await pty.exited();
    assert.doesNotMatch(pty.text, /tinas-secret/, "never echoed");
    const history = readFileSync(join(state, "albumshare", "history"), "utf8");
    assert.doesNotMatch(history, /secret/);
    assert.match(history, /\nregister tina\nlogin tina\nregister other\nquit\n$/);

    // The history lasts across runs: the up arrow brings back the last line.
    const next = shell();
    await next.waitFor(/albumshare> $/, "the prompt");
    const before = next.text.length;
    next.type("\x1b[A\x1b[A");
    await next.waitFor(/register other$/, "the remembered line", before);
  });

  test("13: completion after `help `, of local paths, and a space after a completed word", async () => {
    const pictures = join(temp.dir, "pictures");
    mkdirSync(pictures);
    writeFileSync(join(pictures, "tree.png"), "x");
    const pty = shell();
    await pty.waitFor(/albumshare> $/, "the prompt");
    pty.type("help rateF\t");
    await pty.waitFor(/help rateFile $/, "the completed command name");
    pty.type("\x15"); // Ctrl-U: clear the line
    pty.type(`addFile ${pictures.slice(0, -3)}\t`);
    await pty.waitFor(/addFile \S*pictures\/$/, "the completed folder");
    pty.type("t\t");
    await pty.waitFor(/pictures\/tree\.png $/, "the completed file, then a space");
    pty.type("\x15getAl\t");
    await pty.waitFor(/getAlbum $/, "the completed command");
    pty.type("trip");
    await pty.waitFor(/getAlbum trip$/, "the next word, separate");
  });

  test("14: the prompt follows the session; a lost connection is announced at once", async () => {
    const bob = new ShellClient("bob", central.address, temp.dir);
    clients.push(bob);
    await bob.ok("register bob password-of-bob");
    await bob.ok("login bob password-of-bob");
    await bob.ok("createAlbum harbour");
    await bob.ok("getAlbum harbour");
    const pty = shell();
    await pty.waitFor(/albumshare> $/, "the prompt");
    pty.type("register uma password-of-uma\r");
    pty.type("login uma password-of-uma\r");
    await pty.waitFor(/albumshare\(uma\)> $/, "logged in");
    await bob.ok("addUser uma");
    pty.type("getAlbum harbour\r");
    await pty.waitFor(/albumshare\(uma:harbour\)> $/, "the album in the prompt");
    let mark = pty.text.length;
    await bob.ok("removeUser uma");
    await pty.waitFor(/\* session ended: [^\n]*\nalbumshare\(uma\)> $/, "the prompt redrawn", mark);
    mark = pty.text.length;
    await central.kill9();
    // Said at once; the login stays (the client reconnects with its session token).
    await pty.waitFor(
      /\* lost the connection to the central server[^\n]*\nalbumshare\(uma\)> $/,
      "the lost connection, said at once",
      mark,
    );
  });
});
