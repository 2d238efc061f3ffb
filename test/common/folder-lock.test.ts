// The folder lock between real processes: a second holder is refused at once
// with a line naming the folder and the holder; a kill -9 of the holder frees
// the folder without any clean-up; files are private whatever the umask.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "../../src/common/album-error.ts";
import {
  LOCK_FILE,
  LOCK_OWNER_FILE,
  acquireFolderLock,
  readOwner,
} from "../../src/common/folder-lock.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";

const holder = fileURLToPath(new URL("./fixtures/hold-folder-lock.ts", import.meta.url));
const temp = makeTempDir("albumshare-lock-");
after(() => temp.remove());

interface Holder {
  child: ChildProcess;
  answer: { locked: boolean; line?: string };
}

async function hold(dir: string, role: string): Promise<Holder> {
  const child = spawn(process.execPath, ["--import", "tsx", holder, dir, role], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, answer: JSON.parse(line) as Holder["answer"] };
}

test("a second process is refused with the holder named; kill -9 frees the folder", async () => {
  const dir = join(temp.dir, "one");
  const first = await hold(dir, "central");
  assert.equal(first.answer.locked, true);
  try {
    const second = await hold(dir, "data");
    assert.equal(second.answer.locked, false);
    assert.equal(
      second.answer.line,
      `failed precondition: the folder ${dir} is in use by pid ${first.child.pid} (central on 127.0.0.1:7400)`,
    );
    // The same process cannot take it twice either.
    assert.throws(
      () => acquireFolderLock(dir, { role: "test" }),
      (error: { code?: unknown; message?: string }) =>
        error.code === ErrorCode.FailedPrecondition && /is in use by pid/.test(error.message ?? ""),
    );
  } finally {
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
  }
  // No clean-up ran: the stale description is still there, yet the lock is free.
  assert.equal(readOwner(dir)?.pid, first.child.pid);
  const third = await hold(dir, "data");
  assert.equal(third.answer.locked, true);
  third.child.stdin!.end();
  await once(third.child, "exit");
});

test("release frees the folder in the same process; lock files are private", () => {
  const dir = join(temp.dir, "two");
  const previous = process.umask(0o000);
  try {
    const lock = acquireFolderLock(dir, { role: "central", address: "127.0.0.1:0" });
    lock.describe({ address: "127.0.0.1:7777" });
    assert.equal(readOwner(dir)?.address, "127.0.0.1:7777");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, LOCK_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, LOCK_OWNER_FILE)).mode & 0o777, 0o600);
    lock.release();
    lock.release();
    acquireFolderLock(dir, { role: "central" }).release();
  } finally {
    process.umask(previous);
  }
});
