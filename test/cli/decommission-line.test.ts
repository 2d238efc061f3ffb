// The line `albumshare decommission --force` prints from the coordinator's
// answer: counts with their singular and plural, a few names passed through
// printable() (they come from albums people edit), albums not counted, and a
// coordinator with no albums to count from.

import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { forcedRemovalLine } from "../../src/cli/decommission-command.ts";
import { DecommissionResponseSchema } from "../../src/gen/albumshare/cluster/v1/cluster_pb.ts";

const reply = (fields: Parameters<typeof create<typeof DecommissionResponseSchema>>[1]) =>
  create(DecommissionResponseSchema, { ringVersion: 7n, lostKeysKnown: true, ...fields });

void test("a forced removal's line says what the albums lost", () => {
  assert.equal(
    forcedRemovalLine(
      "ds-0123456789abcdef",
      reply({
        lostKeys: 42n,
        lostAlbums: 3n,
        lostFiles: 20n,
        lostFileNames: ["a.jpg (trip)", "b\u001b[2J.jpg (trip)", "c.jpg (x)", "d.jpg (x)"],
      }),
    ),
    "removed ds-0123456789abcdef; 42 content keys referenced by 3 albums were on it and are lost" +
      " (files: a.jpg (trip), b?[2J.jpg (trip), c.jpg (x), and 17 more); ring version 7",
  );
  assert.equal(
    forcedRemovalLine(
      "ds-0123456789abcdef",
      reply({
        lostKeys: 1n,
        lostAlbums: 1n,
        lostFiles: 1n,
        lostFileNames: ["a.jpg (trip)"],
        unreadableAlbums: 1n,
      }),
    ),
    "removed ds-0123456789abcdef; 1 content key referenced by 1 album was on it and is lost" +
      " (files: a.jpg (trip)); 1 album could not be read and is not counted; ring version 7",
  );
  assert.equal(
    forcedRemovalLine("ds-0123456789abcdef", reply({ unreadableAlbums: 2n })),
    "removed ds-0123456789abcdef; no content key referenced by an album was on it;" +
      " 2 albums could not be read and are not counted; ring version 7",
  );
  assert.equal(
    forcedRemovalLine("ds-0123456789abcdef", reply({ lostKeysKnown: false })),
    "removed ds-0123456789abcdef; its keys are lost (how many is unknown: the coordinator has no albums to count from); ring version 7",
  );
});
