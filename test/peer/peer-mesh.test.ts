// The ZeroMQ adapter on 127.0.0.1: envelopes flow both ways over CURVE with
// the sender's slot proven by its key, a dead peer never blocks the others,
// bad input and unadmitted connections are dropped, a flooding peer delays no
// one else, and the fault-injection hook drops, delays and duplicates.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { curveKeyPair, Dealer } from "zeromq";
import { ByeSchema, PeerEnvelopeSchema } from "../../src/gen/albumshare/peer/v1/peer_pb.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { PeerMesh, type IncomingEnvelope } from "../../src/peer/peer-mesh.ts";
import type { PeerMessageBody } from "../../src/peer/peer-codec.ts";
import type { SessionKeys } from "../../src/peer/peer-keys.ts";
import { z85Encode } from "../../src/peer/z85.ts";
import { eventually } from "../support/eventually.ts";
import { contactOf, meshOptions, newSessionToken } from "./fixtures/test-session.ts";

const TOKEN = newSessionToken();

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
const keysOf = new Map<PeerMesh, SessionKeys>();
async function startMesh(
  slot: number,
  options: Partial<ConstructorParameters<typeof PeerMesh>[0]> = {},
): Promise<PeerMesh> {
  const settings = meshOptions(slot, TOKEN, options);
  const mesh = new PeerMesh(settings);
  keysOf.set(mesh, settings.keys);
  meshes.push(mesh);
  await mesh.start();
  return mesh;
}

/** The contact of a mesh under a user name, as the central server would vouch for it. */
const contact = (mesh: PeerMesh, user: string) => contactOf(mesh, keysOf.get(mesh)!, user);

after(async () => {
  await Promise.all(meshes.map((mesh) => mesh.stop()));
});

describe("PeerMesh", () => {
  test("binds an ephemeral loopback port and exchanges envelopes both ways", async () => {
    const a = await startMesh(1);
    const b = await startMesh(2);
    assert.match(a.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(a.address, b.address);
    a.addPeer(contact(b, "bob"));
    b.addPeer(contact(a, "ann"));
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
    const deadContact = contact(dead, "ghost");
    await dead.stop();
    a.addPeer({ ...deadContact, address: deadAddress });
    a.addPeer(contact(b, "bob"));
    b.admit(contact(a, "ann"));
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

  test("refuses connections without an admitted key, and drops what it cannot attribute", async () => {
    const a = await startMesh(5);
    const b = await startMesh(6);
    const encode = (senderSlot: number, reason: string): Uint8Array =>
      toBinary(PeerEnvelopeSchema, create(PeerEnvelopeSchema, { senderSlot, body: bye(reason) }));
    // No CURVE at all: the handshake fails, nothing is read.
    const plain = new Dealer({ routingId: "slot-6", linger: 0 });
    // CURVE with a self-made key nobody vouched for: ZAP refuses it.
    const stranger = curveKeyPair();
    const unvouched = new Dealer({
      linger: 0,
      curveServerKey: z85Encode(keysOf.get(a)!.publicKey),
      curvePublicKey: stranger.publicKey,
      curveSecretKey: stranger.secretKey,
    });
    // b's real key, admitted, but a routing id of its own making: dropped unread.
    const bKeys = keysOf.get(b)!;
    const wrongId = new Dealer({
      linger: 0,
      routingId: "slot-6",
      curveServerKey: z85Encode(keysOf.get(a)!.publicKey),
      curvePublicKey: bKeys.publicKeyZ85,
      curveSecretKey: bKeys.secretKeyZ85,
    });
    try {
      a.admit(contact(b, "bob"));
      for (const socket of [plain, unvouched, wrongId]) {
        socket.connect(`tcp://${a.address}`);
        void socket.send(encode(6, "forged")).catch(() => undefined);
      }
      await eventually(() => a.admissions.refused >= 1, "a refused the self-made key");
      await eventually(() => a.stats.unauthenticated >= 1, "a dropped the made-up routing id");
      // The real b: undecodable bytes and a wrong sender slot are dropped, the honest one passes.
      b.addPeer(contact(a, "ann"));
      b.sendTo(5, { case: "bye", value: create(ByeSchema, { reason: "honest" }) });
      const [incoming] = await take(a, 1);
      assert.equal(reasonOf(incoming!), "honest");
      assert.equal(incoming!.fromSlot, 6);
      assert.equal(a.stats.received, 1);
    } finally {
      for (const socket of [plain, unvouched, wrongId]) socket.close();
    }
  });

  test("one flooding peer does not delay another peer's messages", async () => {
    const a = await startMesh(20, { incomingQueueLimit: 50 });
    const flooder = await startMesh(21);
    const quiet = await startMesh(22);
    flooder.addPeer(contact(a, "ann"));
    quiet.addPeer(contact(a, "ann"));
    a.admit(contact(flooder, "flo"));
    a.admit(contact(quiet, "qui"));
    // Nobody reads a's incoming yet: the flooder fills its own budget only.
    for (let i = 0; i < 2000; i++) flooder.sendTo(20, bye(`flood ${i}`));
    await eventually(() => a.stats.overBudget > 0, "the flooder went over its budget");
    quiet.sendTo(20, bye("quiet"));
    await eventually(() => a.queuedFrom(22) === 1, "the quiet message waits at a");
    assert.equal(a.queuedFrom(21), 50, "the flooder holds its whole budget, no more");
    const seen: string[] = [];
    for await (const incoming of a.incoming()) {
      seen.push(reasonOf(incoming));
      if (reasonOf(incoming) === "quiet") break;
    }
    // Round robin: the quiet peer's message comes within one message per peer.
    assert.ok(seen.length <= 2, `the quiet message came after ${seen.length - 1} floods`);
  });

  test("a removed peer's key is refused and its open connection cut", async () => {
    const a = await startMesh(30);
    const b = await startMesh(31);
    a.addPeer(contact(b, "bob"));
    b.addPeer(contact(a, "ann"));
    b.sendTo(30, bye("before"));
    assert.equal(reasonOf((await take(a, 1))[0]!), "before");
    await a.revokePeer(31);
    b.sendTo(30, bye("after"));
    await eventually(() => a.admissions.refused > 0, "b's reconnection refused");
    const c = await startMesh(32);
    c.addPeer(contact(a, "cy"));
    a.admit(contact(c, "cy"));
    c.sendTo(30, bye("from c"));
    assert.equal(reasonOf((await take(a, 1))[0]!), "from c", "nothing of b's arrived meanwhile");
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
    a.addPeer(contact(b, "b"));
    b.admit(contact(a, "a"));
    for (const reason of ["late", "drop", "twice", "plain"]) a.sendTo(11, bye(reason));
    const received = (await take(b, 4)).map(reasonOf);
    assert.deepEqual(received.slice().sort(), ["late", "plain", "twice", "twice"]);
    assert.equal(received.at(-1), "late", "the delayed message comes last");
    assert.equal(b.stats.droppedByFaults, 1);
  });

  test("refuses its own slot, bad addresses, and use when not running", async () => {
    const a = await startMesh(12);
    assert.throws(
      () => a.addPeer(contact(a, "me")),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.InvalidArgument,
    );
    assert.throws(
      () => a.addPeer({ ...contact(a, "x"), slot: 13, address: "not an address" }),
      /host:port/,
    );
    assert.throws(
      () => a.addPeer({ ...contact(a, "x"), slot: 13, publicKey: new Uint8Array(5) }),
      /32 bytes/,
    );
    const idle = new PeerMesh(meshOptions(14, TOKEN));
    assert.throws(() => idle.address, /not started/);
    assert.throws(() => idle.broadcast(bye("x")), /not running/);
    await idle.stop();
  });

  test("a slot reused at a new address is reconnected", async () => {
    const a = await startMesh(15);
    const first = await startMesh(16);
    const second = await startMesh(16);
    assert.equal(a.addPeer(contact(first, "old")), true);
    assert.equal(a.addPeer(contact(first, "old")), false);
    assert.equal(a.addPeer(contact(second, "new")), true);
    second.admit(contact(a, "a"));
    a.sendTo(16, bye("for the new holder"));
    const [incoming] = await take(second, 1);
    assert.equal(reasonOf(incoming!), "for the new holder");
    assert.equal(a.peer(16)?.user, "new");
  });
});
