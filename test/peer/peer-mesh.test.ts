// The ZeroMQ adapter on 127.0.0.1: envelopes flow both ways with the sender's
// slot checked, a dead peer never blocks the others, bad input is dropped, and
// the fault-injection hook drops, delays and duplicates.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { Dealer } from "zeromq";
import { ByeSchema, PeerEnvelopeSchema } from "../../src/gen/albumshare/peer/v1/peer_pb.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { PeerMesh, type IncomingEnvelope } from "../../src/peer/peer-mesh.ts";
import type { PeerMessageBody } from "../../src/peer/peer-codec.ts";

const bye = (reason: string): PeerMessageBody => ({
  case: "bye",
  value: create(ByeSchema, { reason }),
});

const reasonOf = (incoming: IncomingEnvelope): string =>
  incoming.envelope.body.case === "bye" ? incoming.envelope.body.value.reason : "?";

/** Reads `count` envelopes from a mesh. */
async function take(mesh: PeerMesh, count: number): Promise<IncomingEnvelope[]> {
  const received: IncomingEnvelope[] = [];
  if (count === 0) return received;
  for await (const incoming of mesh.incoming()) {
    received.push(incoming);
    if (received.length === count) break;
  }
  return received;
}

const meshes: PeerMesh[] = [];
async function startMesh(
  slot: number,
  options: Partial<ConstructorParameters<typeof PeerMesh>[0]> = {},
): Promise<PeerMesh> {
  const mesh = new PeerMesh({ slot, ...options });
  meshes.push(mesh);
  await mesh.start();
  return mesh;
}

after(async () => {
  await Promise.all(meshes.map((mesh) => mesh.stop()));
});

describe("PeerMesh", () => {
  test("binds an ephemeral loopback port and exchanges envelopes both ways", async () => {
    const a = await startMesh(1);
    const b = await startMesh(2);
    assert.match(a.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(a.address, b.address);
    a.addPeer({ slot: 2, user: "bob", address: b.address });
    b.addPeer({ slot: 1, user: "ann", address: a.address });
    a.sendTo(2, bye("to b"));
    b.broadcast(bye("to a"));
    const [atB] = await take(b, 1);
    const [atA] = await take(a, 1);
    assert.equal(atB!.fromSlot, 1);
    assert.equal(atB!.envelope.senderSlot, 1);
    assert.equal(reasonOf(atB!), "to b");
    assert.equal(atA!.fromSlot, 2);
    assert.equal(reasonOf(atA!), "to a");
  });

  test("a dead peer never blocks sends to the live ones", async () => {
    const a = await startMesh(3, { sendHighWaterMark: 100 });
    const b = await startMesh(4);
    // Nothing listens there: messages for it queue up to the mark, then drop.
    const dead = await startMesh(9);
    const deadAddress = dead.address;
    await dead.stop();
    a.addPeer({ slot: 9, user: "ghost", address: deadAddress });
    a.addPeer({ slot: 4, user: "bob", address: b.address });
    for (let i = 0; i < 500; i++) a.broadcast(bye(`m${i}`));
    const received = await take(b, 500);
    assert.deepEqual(
      received.map(reasonOf),
      Array.from({ length: 500 }, (_, i) => `m${i}`),
    );
    // Removing the dead peer discards its backlog (at most the ZeroMQ mark is in flight).
    assert.equal(a.removePeer(9), true);
    assert.ok(a.stats.discarded >= 400, `discarded ${a.stats.discarded} for the dead peer`);
    assert.equal(a.sendTo(9, bye("gone")), false);
  });

  test("drops undecodable and spoofed messages and keeps working", async () => {
    const a = await startMesh(5);
    const raw = new Dealer({ routingId: "slot-6", linger: 0 });
    try {
      raw.connect(`tcp://${a.address}`);
      await raw.send(Buffer.from([0xff, 0xff, 0xff]));
      const spoofed = toBinary(
        PeerEnvelopeSchema,
        create(PeerEnvelopeSchema, { senderSlot: 7, body: bye("spoofed") }),
      );
      await raw.send(spoofed);
      await raw.send([Buffer.from("two"), Buffer.from("frames")]);
      const honest = toBinary(
        PeerEnvelopeSchema,
        create(PeerEnvelopeSchema, { senderSlot: 6, body: bye("honest") }),
      );
      await raw.send(honest);
      const [incoming] = await take(a, 1);
      assert.equal(reasonOf(incoming!), "honest");
      assert.equal(a.stats.malformed, 3);
    } finally {
      raw.close();
    }
  });

  test("the fault hook drops, duplicates and delays", async () => {
    const a = await startMesh(10);
    const b = await startMesh(11, {
      faults: (incoming) => {
        const reason = reasonOf(incoming);
        if (reason === "drop") return [];
        if (reason === "twice") return [0, 5];
        if (reason === "late") return [30];
        return undefined;
      },
    });
    a.addPeer({ slot: 11, user: "b", address: b.address });
    for (const reason of ["late", "drop", "twice", "plain"]) a.sendTo(11, bye(reason));
    const received = (await take(b, 4)).map(reasonOf);
    assert.deepEqual(received.slice().sort(), ["late", "plain", "twice", "twice"]);
    assert.equal(received.at(-1), "late", "the delayed message comes last");
    assert.equal(b.stats.droppedByFaults, 1);
  });

  test("refuses its own slot, bad addresses, and use when not running", async () => {
    const a = await startMesh(12);
    assert.throws(
      () => a.addPeer({ slot: 12, user: "me", address: a.address }),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.InvalidArgument,
    );
    assert.throws(() => a.addPeer({ slot: 13, user: "x", address: "not an address" }), /host:port/);
    const idle = new PeerMesh({ slot: 14 });
    assert.throws(() => idle.address, /not started/);
    assert.throws(() => idle.broadcast(bye("x")), /not running/);
    await idle.stop();
  });

  test("a slot reused at a new address is reconnected", async () => {
    const a = await startMesh(15);
    const first = await startMesh(16);
    const second = await startMesh(16);
    assert.equal(a.addPeer({ slot: 16, user: "old", address: first.address }), true);
    assert.equal(a.addPeer({ slot: 16, user: "old", address: first.address }), false);
    assert.equal(a.addPeer({ slot: 16, user: "new", address: second.address }), true);
    a.sendTo(16, bye("for the new holder"));
    const [incoming] = await take(second, 1);
    assert.equal(reasonOf(incoming!), "for the new holder");
    assert.equal(a.peer(16)?.user, "new");
  });
});
