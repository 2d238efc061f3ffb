// Durability: a write the client saw acknowledged survives `kill -9` of the
// central server. The server is killed right after the acknowledgements and
// restarted on the same directory.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { CentralClient } from "../../src/client/central-client.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";

const temp = makeTempDir("albumshare-restart-");
const running: CentralProcess[] = [];

after(async () => {
  for (const server of running) await server.kill9();
  temp.remove();
});

test("acknowledged user and album survive kill -9 and a restart", async () => {
  const first = await CentralProcess.start(temp.dir);
  running.push(first);
  const client = await CentralClient.connect({ address: first.address });
  await client.register("grace", "grace-password");
  await client.login("grace", "grace-password");
  await client.createAlbum("durable-album");
  await client.createAlbum("second-album");
  // Killed the moment the last acknowledgement arrived: no shutdown code runs.
  await first.kill9();
  client.close();

  const second = await CentralProcess.start(temp.dir);
  running.push(second);
  const again = await CentralClient.connect({ address: second.address });
  try {
    assert.equal(await again.login("grace", "grace-password"), "grace");
    const names = (await again.listAlbums()).map((a) => a.name).sort();
    assert.deepEqual(names, ["durable-album", "second-album"]);
    // The data is really there, not just re-creatable.
    await assert.rejects(
      again.register("grace", "other-password"),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.AlreadyExists,
    );
  } finally {
    again.close();
  }
  await second.stop();
});
