// The ring, example by example: routing, joins, address changes, transfers,
// owned arcs, the wire form, and every way Ring.fromProto refuses a bad ring.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { keyPosition } from "../../src/ring/content-key.ts";
import { DEFAULT_TOKENS_PER_SERVER, inRange, Ring, type TokenRange } from "../../src/ring/ring.ts";
import { isValidAddress, isValidServerId } from "../../src/ring/ring-validation.ts";
import {
  RingNodeSchema,
  RingStateSchema,
  type RingState,
} from "../../src/gen/albumshare/ring/v1/ring_pb.ts";

const TOP = (1n << 64n) - 1n;
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function grown(count: number, tokenCount?: number): Ring {
  let ring = Ring.empty();
  for (let i = 0; i < count; i++)
    ring = ring.withServer(`s${i}`, `127.0.0.1:${7000 + i}`, tokenCount);
  return ring;
}

function state(
  version: bigint,
  nodes: { serverId: string; address: string; tokens: bigint[] }[],
): RingState {
  return create(RingStateSchema, {
    version,
    nodes: nodes.map((node) => create(RingNodeSchema, node)),
  });
}

function assertAlbumError(run: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AlbumError, `expected an AlbumError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe("inRange", () => {
  test("an arc excludes its start and includes its end", () => {
    const range: TokenRange = { start: 10n, end: 20n };
    assert.equal(inRange(10n, range), false);
    assert.equal(inRange(11n, range), true);
    assert.equal(inRange(20n, range), true);
    assert.equal(inRange(21n, range), false);
  });

  test("an arc may wrap past the top of the circle", () => {
    const range: TokenRange = { start: TOP - 5n, end: 3n };
    assert.equal(inRange(TOP - 5n, range), false);
    assert.equal(inRange(TOP, range), true);
    assert.equal(inRange(0n, range), true);
    assert.equal(inRange(3n, range), true);
    assert.equal(inRange(4n, range), false);
    assert.equal(inRange(100n, range), false);
  });

  test("start equal to end is the whole circle", () => {
    for (const position of [0n, 5n, 6n, TOP])
      assert.equal(inRange(position, { start: 5n, end: 5n }), true);
  });
});

describe("Ring", () => {
  test("the empty ring has version 0, no nodes, and refuses to route", () => {
    const ring = Ring.empty();
    assert.equal(ring.version, 0);
    assert.equal(ring.isEmpty(), true);
    assert.deepEqual(ring.nodes, []);
    assert.equal(ring.node("s0"), undefined);
    assertAlbumError(() => ring.ownerOf(sha256("x")), ErrorCode.Unavailable, /no data server/);
    assert.equal(ring.owns("s0", sha256("x")), false);
    assert.deepEqual(ring.rangesOwnedBy("s0"), []);
    assert.equal(ring.share("s0"), 0);
  });

  test("the first server gets evenly spaced tokens and owns everything", () => {
    const ring = Ring.empty().withServer("s0", "127.0.0.1:7000", 4);
    assert.equal(ring.version, 1);
    assert.deepEqual(ring.node("s0")?.tokens, [0n, 1n << 62n, 2n << 62n, 3n << 62n]);
    assert.equal(ring.share("s0"), 1);
    assert.deepEqual(ring.rangesOwnedBy("s0"), [{ start: 3n << 62n, end: 3n << 62n }]);
    assert.equal(ring.ownerOf(sha256("anything")).serverId, "s0");
  });

  test("the default token count is used when none is given", () => {
    const ring = grown(3);
    for (const node of ring.nodes) assert.equal(node.tokens.length, DEFAULT_TOKENS_PER_SERVER);
    assert.equal(ring.tokenCount, 3 * DEFAULT_TOKENS_PER_SERVER);
  });

  test("a key belongs to the first token at or after its position, wrapping around", () => {
    const ring = Ring.fromProto(
      state(7n, [
        { serverId: "a", address: "127.0.0.1:1", tokens: [100n, 300n] },
        { serverId: "b", address: "127.0.0.1:2", tokens: [200n] },
      ]),
    );
    const owner = (position: bigint): string => ring.ownerOfPosition(position).serverId;
    assert.equal(owner(0n), "a");
    assert.equal(owner(100n), "a");
    assert.equal(owner(101n), "b");
    assert.equal(owner(200n), "b");
    assert.equal(owner(201n), "a");
    assert.equal(owner(300n), "a");
    assert.equal(owner(301n), "a"); // wraps to token 100
    assert.equal(owner(TOP), "a");
    const key = `00000000000000c8${"0".repeat(48)}`; // position 200
    assert.equal(ring.ownerOf(key).serverId, "b");
    assert.equal(ring.owns("b", key), true);
    assert.equal(ring.owns("a", key), false);
    assert.deepEqual(ring.rangesOwnedBy("a"), [{ start: 200n, end: 100n }]);
    assert.deepEqual(ring.rangesOwnedBy("b"), [{ start: 100n, end: 200n }]);
    assertAlbumError(() => ring.ownerOfPosition(-1n), ErrorCode.InvalidArgument, /outside/);
    assertAlbumError(() => ring.ownerOfPosition(1n << 64n), ErrorCode.InvalidArgument, /outside/);
  });

  test("shares add up to one and match the owned arcs", () => {
    const ring = grown(7);
    const total = ring.nodes.reduce((sum, node) => sum + ring.share(node.serverId), 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    for (const node of ring.nodes) {
      const arcs = ring.rangesOwnedBy(node.serverId);
      const length = arcs.reduce(
        (sum, { start, end }) => sum + ((end - start + (1n << 64n)) % (1n << 64n)),
        0n,
      );
      assert.ok(Math.abs(Number(length) / 2 ** 64 - ring.share(node.serverId)) < 1e-12);
    }
  });

  test("withServer is deterministic and keeps earlier servers and their tokens", () => {
    const first = grown(10);
    const second = grown(10);
    assert.deepEqual(first.toProto(), second.toProto());
    const next = first.withServer("new", "[::1]:9000");
    assert.equal(next.version, first.version + 1);
    assert.deepEqual(next.nodes.slice(0, 10), first.nodes);
    assert.equal(next.nodes[10]!.serverId, "new");
    assert.equal(first.nodes.length, 10, "the old ring is unchanged");
  });

  test("withServer refuses a server already in the ring and bad arguments", () => {
    const ring = grown(2);
    assertAlbumError(() => ring.withServer("s1", "127.0.0.1:1"), ErrorCode.AlreadyExists, /"s1"/);
    assertAlbumError(
      () => ring.withServer("", "127.0.0.1:1"),
      ErrorCode.InvalidArgument,
      /server id/,
    );
    assertAlbumError(() => ring.withServer("x", "nowhere"), ErrorCode.InvalidArgument, /address/);
    assertAlbumError(
      () => ring.withServer("x", "127.0.0.1:1", 0),
      ErrorCode.InvalidArgument,
      /token count/,
    );
    assertAlbumError(
      () => ring.withServer("x", "127.0.0.1:1", 1.5),
      ErrorCode.InvalidArgument,
      /token count/,
    );
  });

  test("a server with a single token can join, and splits the circle", () => {
    const one = Ring.empty().withServer("a", "127.0.0.1:1", 1);
    const two = one.withServer("b", "127.0.0.1:2", 1);
    assert.ok(Math.abs(two.share("a") - 0.5) < 1e-9);
    assert.deepEqual(one.transfersTo(two), [
      { range: { start: 0n, end: 1n << 63n }, from: "a", to: "b" },
    ]);
  });

  test("withAddress changes only the address, with the next version", () => {
    const ring = grown(3);
    const moved = ring.withAddress("s1", "host.example:7443");
    assert.equal(moved.version, ring.version + 1);
    assert.equal(moved.node("s1")?.address, "host.example:7443");
    assert.deepEqual(moved.node("s1")?.tokens, ring.node("s1")?.tokens);
    assert.deepEqual(ring.transfersTo(moved), []);
    assertAlbumError(
      () => ring.withAddress("nobody", "127.0.0.1:1"),
      ErrorCode.NotFound,
      /"nobody"/,
    );
    assertAlbumError(
      () => ring.withAddress("s1", "127.0.0.1:0"),
      ErrorCode.InvalidArgument,
      /address/,
    );
  });

  test("a join transfers arcs only from old owners to the new server", () => {
    const ring = grown(5);
    const next = ring.withServer("new", "127.0.0.1:9999");
    const transfers = ring.transfersTo(next);
    assert.ok(transfers.length > 0);
    let moved = 0n;
    for (const transfer of transfers) {
      assert.equal(transfer.to, "new");
      assert.notEqual(transfer.from, "new");
      assert.equal(ring.ownerOfPosition(transfer.range.end).serverId, transfer.from);
      assert.equal(next.ownerOfPosition(transfer.range.end).serverId, "new");
      moved += (transfer.range.end - transfer.range.start + (1n << 64n)) % (1n << 64n);
    }
    assert.ok(Math.abs(Number(moved) / 2 ** 64 - next.share("new")) < 1e-12);
    assert.deepEqual(next.transfersTo(next), []);
    assert.deepEqual(Ring.empty().transfersTo(next), []);
    assert.deepEqual(next.transfersTo(Ring.empty()), []);
  });

  test("transfers merge adjacent arcs, including across the top of the circle", () => {
    const before = Ring.fromProto(
      state(1n, [{ serverId: "a", address: "127.0.0.1:1", tokens: [10n, 20n, TOP - 10n] }]),
    );
    const after = Ring.fromProto(
      state(2n, [
        { serverId: "a", address: "127.0.0.1:1", tokens: [10n, 20n, TOP - 10n] },
        { serverId: "b", address: "127.0.0.1:2", tokens: [5n, TOP - 20n] },
      ]),
    );
    // b's token 5 takes (TOP-10, 5], across the top; its token TOP-20 takes (20, TOP-20].
    assert.deepEqual(before.transfersTo(after), [
      { range: { start: TOP - 10n, end: 5n }, from: "a", to: "b" },
      { range: { start: 20n, end: TOP - 20n }, from: "a", to: "b" },
    ]);
    // A server replaced everywhere: the whole circle moves.
    const replaced = Ring.fromProto(
      state(3n, [{ serverId: "c", address: "127.0.0.1:3", tokens: [10n, 20n, TOP - 10n] }]),
    );
    assert.deepEqual(before.transfersTo(replaced), [
      { range: { start: TOP - 10n, end: TOP - 10n }, from: "a", to: "c" },
    ]);
  });

  test("proto round trip, through the wire encoding, keeps the ring", () => {
    const ring = grown(6).withAddress("s2", "[::1]:8080");
    const wire = toBinary(RingStateSchema, ring.toProto());
    const back = Ring.fromProto(fromBinary(RingStateSchema, wire));
    assert.equal(back.version, ring.version);
    assert.deepEqual(back.nodes, ring.nodes);
    assert.deepEqual(back.toProto(), ring.toProto());
    for (let i = 0; i < 200; i++) {
      const key = sha256(`k${i}`);
      assert.equal(back.ownerOf(key).serverId, ring.ownerOf(key).serverId);
    }
    assert.deepEqual(Ring.fromProto(Ring.empty().toProto()).toProto(), Ring.empty().toProto());
  });

  test("nodes are frozen values", () => {
    const ring = grown(2);
    assert.ok(Object.isFrozen(ring.nodes));
    assert.ok(Object.isFrozen(ring.nodes[0]));
    assert.ok(Object.isFrozen(ring.nodes[0]!.tokens));
  });
});

describe("Ring.fromProto refuses invalid rings", () => {
  const good = { serverId: "a", address: "127.0.0.1:1", tokens: [1n, 2n] };
  const refuses = (ring: RingState, message: RegExp): void =>
    assertAlbumError(() => Ring.fromProto(ring), ErrorCode.InvalidArgument, message);

  test("duplicate server ids", () => {
    refuses(state(1n, [good, { ...good, tokens: [3n] }]), /"a" appears twice/);
  });

  test("unsorted, repeated or shared tokens", () => {
    refuses(state(1n, [{ ...good, tokens: [2n, 1n] }]), /out of order/);
    refuses(state(1n, [{ ...good, tokens: [2n, 2n] }]), /twice/);
    refuses(
      state(1n, [good, { serverId: "b", address: "127.0.0.1:2", tokens: [2n] }]),
      /token 2 is held by both "a" and "b"/,
    );
  });

  test("a server without tokens, or with too many", () => {
    refuses(state(1n, [{ ...good, tokens: [] }]), /no tokens/);
    refuses(
      state(1n, [{ ...good, tokens: Array.from({ length: 5000 }, (_, i) => BigInt(i)) }]),
      /at most 4096/,
    );
  });

  test("tokens outside the 64-bit circle", () => {
    const ring = state(1n, [good]);
    ring.nodes[0]!.tokens = [1n << 64n];
    refuses(ring, /outside the 64-bit circle/);
    ring.nodes[0]!.tokens = [-1n];
    refuses(ring, /outside the 64-bit circle/);
  });

  test("bad addresses and server ids", () => {
    for (const address of [
      "",
      "127.0.0.1",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "host:port",
      ":80",
      "a b:80",
      "::1:80",
    ]) {
      refuses(state(1n, [{ ...good, address }]), /bad address/);
    }
    for (const serverId of ["", "-x", "a b", "a/b", "../x", "x".repeat(129)]) {
      refuses(state(1n, [{ ...good, serverId }]), /bad server id/);
    }
  });

  test("servers listed under version 0", () => {
    refuses(state(0n, [good]), /version 0/);
  });

  test("well-formed names are accepted", () => {
    for (const address of [
      "127.0.0.1:1",
      "localhost:65535",
      "[::1]:7000",
      "data-1.example.org:443",
    ]) {
      assert.equal(isValidAddress(address), true, address);
    }
    for (const serverId of [
      "a",
      "data-0001",
      "3f2a9c1e-7b1d-4c55-9d2e-0a1b2c3d4e5f",
      "node_1.eu:2",
    ]) {
      assert.equal(isValidServerId(serverId), true, serverId);
    }
    assert.equal(Ring.fromProto(state(1n, [good])).version, 1);
  });
});

describe("positions come from the key's own bytes", () => {
  test("ownerOf agrees with ownerOfPosition(keyPosition(key))", () => {
    const ring = grown(4);
    for (let i = 0; i < 100; i++) {
      const key = sha256(`file ${i}`);
      assert.equal(ring.ownerOf(key), ring.ownerOfPosition(keyPosition(key)));
    }
  });
});

void describe("removing a server", () => {
  void test("withoutServer is a join in reverse: only the removed server's arcs move, to the others", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.nat(7), (count, pick) => {
        let ring = Ring.empty();
        for (let i = 0; i < count; i++)
          ring = ring.withServer(`ds-${i.toString(16).padStart(16, "0")}`, `127.0.0.1:${7402 + i}`);
        const removed = ring.nodes[pick % count]!.serverId;
        const next = ring.withoutServer(removed);
        assert.equal(next.version, ring.version + 1);
        assert.equal(next.node(removed), undefined);
        const transfers = ring.transfersTo(next);
        assert.ok(transfers.length > 0);
        for (const t of transfers) {
          assert.equal(t.from, removed);
          assert.notEqual(t.to, removed);
        }
        // Adding it back with the same tokens' owner is what the join computed.
        assert.deepEqual(
          next.transfersTo(ring).map((t) => t.to),
          transfers.map(() => removed),
        );
      }),
    );
  });

  void test("the last server cannot be removed", () => {
    const ring = Ring.empty().withServer("ds-0000000000000000", "127.0.0.1:7402");
    assert.throws(() => ring.withoutServer("ds-0000000000000000"), /nowhere to go/);
    assert.throws(() => ring.withoutServer("ds-0000000000000001"), /not in the ring/);
  });
});
