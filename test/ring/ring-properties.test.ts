// Seeded properties of the ring: routing agrees with the owned arcs and with
// the transfers between two rings, whatever the rings; a join only ever moves
// positions to the new server; the wire form round-trips.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { inRange, Ring } from "../../src/ring/ring.ts";
import { RingNodeSchema, RingStateSchema } from "../../src/gen/albumshare/ring/v1/ring_pb.ts";

const TOP = (1n << 64n) - 1n;
const position = fc.bigInt({ min: 0n, max: TOP });

/** A ring grown by withServer: 1 to 12 servers, each with 1 to 20 tokens. */
const grownRing = fc
  .array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 12 })
  .map((tokenCounts) =>
    tokenCounts.reduce(
      (ring, tokens, i) => ring.withServer(`s${i}`, `127.0.0.1:${7000 + i}`, tokens),
      Ring.empty(),
    ),
  );

/** A ring with arbitrary distinct tokens, spread over 1 to 5 servers drawn from a small set. */
const arbitraryRing = fc
  .uniqueArray(
    fc.oneof(position, fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: TOP - 64n, max: TOP })),
    {
      minLength: 1,
      maxLength: 24,
    },
  )
  .chain((tokens) =>
    fc.tuple(
      fc.constant(tokens),
      fc.array(fc.constantFrom("a", "b", "c", "d", "e"), {
        minLength: tokens.length,
        maxLength: tokens.length,
      }),
      fc.integer({ min: 1, max: 1000 }),
    ),
  )
  .map(([tokens, owners, version]) => {
    const byServer = new Map<string, bigint[]>();
    tokens.forEach((token, i) =>
      byServer.set(owners[i]!, [...(byServer.get(owners[i]!) ?? []), token]),
    );
    return Ring.fromProto(
      create(RingStateSchema, {
        version: BigInt(version),
        nodes: [...byServer].map(([serverId, owned]) =>
          create(RingNodeSchema, {
            serverId,
            address: "127.0.0.1:7000",
            tokens: owned.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
          }),
        ),
      }),
    );
  });

/** Positions worth probing on a ring: random ones, and each token and its neighbours. */
function probes(ring: Ring, random: readonly bigint[]): bigint[] {
  const result = [...random, 0n, TOP];
  for (const node of ring.nodes) {
    for (const token of node.tokens) {
      for (const p of [token - 1n, token, token + 1n]) if (p >= 0n && p <= TOP) result.push(p);
    }
  }
  return result;
}

const settings = { seed: 42, numRuns: 150 };

describe("ring properties", () => {
  test("every position lies in exactly one owned arc, its owner's", () => {
    fc.assert(
      fc.property(
        fc.oneof(grownRing, arbitraryRing),
        fc.array(position, { maxLength: 20 }),
        (ring, random) => {
          const arcs = ring.nodes.map((node) => ({
            serverId: node.serverId,
            arcs: ring.rangesOwnedBy(node.serverId),
          }));
          for (const p of probes(ring, random)) {
            const owner = ring.ownerOfPosition(p).serverId;
            assert.equal(ring.ownerOfPosition(p).serverId, owner, "deterministic");
            const holders = arcs.filter(({ arcs }) => arcs.some((range) => inRange(p, range)));
            assert.deepEqual(
              holders.map(({ serverId }) => serverId),
              [owner],
              `position ${p}`,
            );
          }
        },
      ),
      settings,
    );
  });

  test("transfersTo lists exactly the positions whose owner changes, with both owners", () => {
    fc.assert(
      fc.property(
        arbitraryRing,
        arbitraryRing,
        fc.array(position, { maxLength: 20 }),
        (before, after, random) => {
          const transfers = before.transfersTo(after);
          for (const p of [...probes(before, random), ...probes(after, [])]) {
            const from = before.ownerOfPosition(p).serverId;
            const to = after.ownerOfPosition(p).serverId;
            const covering = transfers.filter(({ range }) => inRange(p, range));
            if (from === to) {
              assert.equal(covering.length, 0, `position ${p} keeps ${from} but is listed`);
            } else {
              assert.deepEqual(
                covering.map(({ from, to }) => ({ from, to })),
                [{ from, to }],
                `position ${p} moves from ${from} to ${to}`,
              );
            }
          }
        },
      ),
      settings,
    );
  });

  test("after withServer every position keeps its owner or moves to the new server", () => {
    fc.assert(
      fc.property(
        grownRing,
        fc.integer({ min: 1, max: 20 }),
        fc.array(position, { maxLength: 30 }),
        (ring, tokens, random) => {
          const next = ring.withServer("newcomer", "127.0.0.1:9000", tokens);
          assert.equal(next.version, ring.version + 1);
          assert.equal(next.node("newcomer")!.tokens.length, tokens);
          for (const p of probes(next, random)) {
            const before = ring.ownerOfPosition(p).serverId;
            const after = next.ownerOfPosition(p).serverId;
            assert.ok(
              after === before || after === "newcomer",
              `position ${p}: ${before} -> ${after}`,
            );
          }
          for (const transfer of ring.transfersTo(next)) assert.equal(transfer.to, "newcomer");
          // Never more than the ideal share (fewer tokens than the others may get less).
          const taken = next.share("newcomer");
          assert.ok(taken > 0 && taken <= 1.1 / next.nodes.length, `took ${taken}`);
        },
      ),
      settings,
    );
  });

  test("with equal token counts a join takes 0.9 to 1.1 of the ideal share", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 24 }),
        (servers, tokens) => {
          let ring = Ring.empty();
          for (let i = 0; i < servers; i++) {
            const next = ring.withServer(`s${i}`, "127.0.0.1:7000", tokens);
            const taken = next.share(`s${i}`) * next.nodes.length;
            assert.ok(
              taken >= 0.9 && taken <= 1.1,
              `join to N=${i + 1} took ${taken} of the ideal`,
            );
            ring = next;
          }
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  test("proto round trip keeps versions, nodes and routing", () => {
    fc.assert(
      fc.property(
        fc.oneof(grownRing, arbitraryRing),
        fc.array(position, { maxLength: 20 }),
        (ring, random) => {
          const back = Ring.fromProto(
            fromBinary(RingStateSchema, toBinary(RingStateSchema, ring.toProto())),
          );
          assert.equal(back.version, ring.version);
          assert.deepEqual(back.nodes, ring.nodes);
          for (const p of random)
            assert.equal(back.ownerOfPosition(p).serverId, ring.ownerOfPosition(p).serverId);
        },
      ),
      settings,
    );
  });
});
