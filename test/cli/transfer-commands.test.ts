// What the shell says when a transfer is cancelled (Ctrl-C aborts the
// command's signal): an upload added nothing; a download keeps its partial
// file and the same command resumes it. The album is a stand-in; the local
// destination checks are real. (Under a terminal: test/cli/shell-person.test.ts.)
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { transferCommands } from "../../src/cli/transfer-commands.ts";
import type { ShellContext } from "../../src/cli/shell-commands.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";

function cancelledContext(): ShellContext {
  const controller = new AbortController();
  controller.abort();
  const interrupted = (): Promise<never> => Promise.reject(new Error("The operation was aborted"));
  return {
    album: {
      isOpen: true,
      listFiles: () => [
        { name: "big.mov", size: 10, average: null, ratings: 0, addedBy: "bob", addedAt: null },
      ],
      downloadFile: interrupted,
      addFile: interrupted,
    },
    signal: controller.signal,
    transferProgress: () => undefined,
    columns: 80,
  } as unknown as ShellContext;
}

const command = (name: string) => transferCommands.find((c) => c.name === name)!;

describe("cancelled transfers", () => {
  const temp = makeTempDir("albumshare-cancel-");
  after(() => temp.remove());

  test("a cancelled download says its partial file is kept for resuming", async () => {
    const dest = join(temp.dir, "big.mov");
    await assert.rejects(
      command("downloadFile").run(cancelledContext(), ["big.mov", dest]),
      (error: Error) => {
        assert.match(
          error.message,
          /^cancelled: the partial download is kept as .*big\.mov\.albumshare-part; the same command resumes it$/,
        );
        return true;
      },
    );
  });

  test("a cancelled upload says nothing was added", async () => {
    const path = join(temp.dir, "clip.mov");
    writeFileSync(path, "x");
    await assert.rejects(
      command("addFile").run(cancelledContext(), [path]),
      /cancelled: nothing was added/,
    );
  });
});
