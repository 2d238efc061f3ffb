// The decommission state machine on its own (pure): every random ring and
// choice of server goes copy -> finish -> release -> done, the ring switching
// exactly once, to the ring without the server, with every transfer from the
// server leaving to a server that stays; transitions out of order are refused;
// an interrupted decommission before the switch leaves the ring unchanged.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cancelBeforeSwitch,
  caughtUp,
  forceRemove,
  planDecommission,
  rangesByTarget,
  released,
  switchRing,
} from "../../src/central/cluster/decommission.ts";
import { Ring } from "../../src/ring/ring.ts";

function ringOf(count: number): Ring {
  let ring = Ring.empty();
  for (let i = 0; i < count; i++)
    ring = ring.withServer(`ds-${i.toString(16).padStart(16, "0")}`, `127.0.0.1:${7402 + i}`);
  return ring;
}

void describe("decommission state machine", () => {
  void test("copy, switch, catch up, release: one ring switch, to the ring without the server", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.nat(), (count, pick) => {
        const ring = ringOf(count);
        const leaving = ring.nodes[pick % count]!;
        const planned = planDecommission(ring, leaving.serverId, "id-1");
        assert.equal(planned.ring, ring, "nothing switches when planning");
        const d = planned.decommission!;
        assert.equal(d.stage, "copy");
        assert.equal(d.address, leaving.address);
        for (const t of d.transfers) {
          assert.equal(t.from, leaving.serverId);
          assert.ok(d.nextRing.node(t.to));
        }
        assert.ok(!rangesByTarget(d).has(leaving.serverId));
        assert.throws(() => caughtUp(planned), /no decommission in stage finish/);
        const switched = switchRing(planned);
        assert.equal(switched.ring.version, ring.version + 1);
        assert.equal(switched.ring.node(leaving.serverId), undefined);
        assert.equal(switched.decommission!.stage, "finish");
        assert.throws(() => switchRing(switched), /stage copy/);
        assert.throws(() => cancelBeforeSwitch(switched), /stage copy/);
        const caught = caughtUp(switched);
        assert.equal(caught.ring, switched.ring);
        const done = released(caught);
        assert.equal(done.decommission, null);
        assert.equal(done.ring, switched.ring);
        assert.throws(() => released(done), /none runs/);
        // Cancelled before the switch: the ring is the one before.
        assert.equal(cancelBeforeSwitch(planned).ring, ring);
        assert.equal(cancelBeforeSwitch(planned).decommission, null);
      }),
    );
  });

  void test("unknown servers and the last server are refused; force switches at once", () => {
    const ring = ringOf(2);
    assert.throws(() => planDecommission(ring, "ds-00000000000000ff", "x"), /not a member/);
    assert.throws(() => forceRemove(ring, "ds-00000000000000ff"), /not a member/);
    const one = forceRemove(ring, ring.nodes[0]!.serverId);
    assert.equal(one.decommission, null);
    assert.equal(one.ring.nodes.length, 1);
    assert.throws(
      () => planDecommission(one.ring, one.ring.nodes[0]!.serverId, "y"),
      /nowhere to go/,
    );
  });
});
