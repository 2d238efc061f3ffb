// The balance targets on a growing cluster, with 100,000 keys (the
// benchmark checks them with a million). Key counts carry sampling noise: with
// 100k keys the noise alone reaches about 1.06 at 64 servers, so key counts are
// checked up to 32 servers and the exact shares of the circle at every size.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { keyPosition } from "../../src/ring/content-key.ts";
import { Ring } from "../../src/ring/ring.ts";

const KEYS = Array.from({ length: 100_000 }, (_, i) =>
  keyPosition(createHash("sha256").update(`balance key ${i}`).digest("hex")),
);

describe("a cluster grown one server at a time, 2 to 64 servers", () => {
  test("load within 1.10 of the mean; each join moves about 1/(N+1), all to the new server", () => {
    let ring = Ring.empty().withServer("s0", "127.0.0.1:7000");
    let owners = KEYS.map((position) => ring.ownerOfPosition(position).serverId);
    for (let size = 2; size <= 64; size++) {
      const newcomer = `s${size - 1}`;
      const next = ring.withServer(newcomer, `127.0.0.1:${7000 + size}`);
      const nextOwners = KEYS.map((position) => next.ownerOfPosition(position).serverId);

      let moved = 0;
      const counts = new Map<string, number>();
      for (let k = 0; k < KEYS.length; k++) {
        counts.set(nextOwners[k]!, (counts.get(nextOwners[k]!) ?? 0) + 1);
        if (nextOwners[k] === owners[k]) continue;
        moved++;
        assert.equal(nextOwners[k], newcomer, `a key moved between two old servers at N=${size}`);
      }
      const movedOverIdeal = moved / (KEYS.length / size);
      assert.ok(
        movedOverIdeal >= 0.9 && movedOverIdeal <= 1.1,
        `join to N=${size} moved ${movedOverIdeal.toFixed(3)} of the ideal`,
      );

      const peakShare = Math.max(...next.nodes.map((node) => next.share(node.serverId))) * size;
      assert.ok(
        peakShare <= 1.08,
        `largest share at N=${size} is ${peakShare.toFixed(4)} of the mean`,
      );
      if (size <= 32) {
        const peakKeys = (Math.max(...counts.values()) * size) / KEYS.length;
        assert.ok(
          peakKeys <= 1.1,
          `most loaded server at N=${size} holds ${peakKeys.toFixed(3)} of the mean`,
        );
      }
      ring = next;
      owners = nextOwners;
    }
  });
});
