// Targeted concurrency properties: concurrent adds under one name keep every
// content, named identically everywhere; a re-add concurrent with a remove of
// the same element wins, for files and members, from random starting states.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addFile,
  addMember,
  cloneState,
  encodeState,
  findFile,
  isMember,
  join,
  listFiles,
  listMembers,
  mergeInto,
  removeFile,
  removeMember,
  type AlbumDelta,
} from "../../src/crdt/index.ts";
import { CONTENT_KEYS, scenario, simulate, USERS } from "./album-simulation.ts";

describe("album CRDT concurrency", () => {
  test("same-name concurrent adds keep every content, identically on all replicas", () => {
    fc.assert(
      fc.property(
        scenario(25),
        fc.array(fc.record({ content: fc.nat(3), adder: fc.nat(1) }), {
          minLength: 2,
          maxLength: 8,
        }),
        fc.integer(),
        (plan, adds, order) => {
          const base = simulate(plan).replicas[0]!;
          const members = listMembers(base);
          if (findFile(base, "same.jpg")) return;
          const replicas = adds.map(() => cloneState(base));
          const deltas: AlbumDelta[] = [];
          adds.forEach((add, i) => {
            const user = members[(add.adder + i) % members.length]!;
            deltas.push(
              addFile(
                replicas[i]!,
                { slot: 20 + i, user },
                { name: "same.jpg", contentKey: CONTENT_KEYS[add.content]!, size: 1 },
              ),
            );
          });
          // Every replica receives every delta, each in its own order.
          replicas.forEach((replica, i) => {
            const rotation = (order + i) % deltas.length;
            for (const delta of [...deltas.slice(rotation), ...deltas.slice(0, rotation)].reverse())
              mergeInto(replica, delta);
          });
          const contents = new Set(adds.map((a) => CONTENT_KEYS[a.content]!));
          const named = (i: number) => listFiles(replicas[i]!).filter((f) => f.name === "same.jpg");
          assert.equal(named(0).length, contents.size);
          assert.deepEqual(new Set(named(0).map((f) => f.contentKey)), contents);
          for (const file of named(0))
            assert.equal(findFile(replicas[0]!, file.displayName)?.contentKey, file.contentKey);
          if (contents.size === 1) assert.equal(named(0)[0]!.displayName, "same.jpg");
          const bytes = Buffer.from(encodeState(replicas[0]!)).toString("hex");
          for (let i = 1; i < replicas.length; i++) {
            assert.deepEqual(
              named(i).map((f) => f.displayName),
              named(0).map((f) => f.displayName),
            );
            assert.equal(Buffer.from(encodeState(replicas[i]!)).toString("hex"), bytes);
          }
        },
      ),
      { seed: 61, numRuns: 300 },
    );
  });

  test("a file re-added concurrently with its removal stays (add wins)", () => {
    fc.assert(
      fc.property(scenario(40), fc.nat(), (plan, pick) => {
        const base = simulate(plan).replicas[0]!;
        const files = listFiles(base);
        const members = listMembers(base);
        if (files.length === 0) return;
        const file = files[pick % files.length]!;
        // Re-adding a name needs it free: a name held by another content refuses the add.
        if (files.some((f) => f.name === file.name && f !== file)) return;
        const remover = cloneState(base);
        const readder = cloneState(base);
        removeFile(remover, { slot: 30, user: members[0]! }, file.displayName);
        removeFile(readder, { slot: 31, user: members[members.length - 1]! }, file.displayName);
        addFile(
          readder,
          { slot: 31, user: members[members.length - 1]! },
          { name: file.name, contentKey: file.contentKey, size: file.size },
        );
        for (const merged of [join(remover, readder), join(readder, remover)]) {
          assert.ok(
            listFiles(merged).some((f) => f.name === file.name && f.contentKey === file.contentKey),
          );
        }
        // The plain concurrent remove alone does remove it.
        assert.ok(
          !listFiles(join(base, remover)).some((f) => f.dots.some((d) => file.dots.includes(d))),
        );
      }),
      { seed: 67, numRuns: 300 },
    );
  });

  test("a member re-added concurrently with their removal stays (add wins)", () => {
    fc.assert(
      fc.property(scenario(40), fc.nat(), (plan, pick) => {
        const base = simulate(plan).replicas[0]!;
        const members = listMembers(base);
        if (members.length < 3) return;
        const target = members[pick % members.length]!;
        const others = members.filter((m) => m !== target);
        const remover = cloneState(base);
        const readder = cloneState(base);
        removeMember(remover, { slot: 30, user: others[0]! }, target);
        removeMember(readder, { slot: 31, user: others[1]! }, target);
        addMember(readder, { slot: 31, user: others[1]! }, target);
        assert.ok(isMember(join(remover, readder), target));
        assert.ok(!isMember(join(base, remover), target));
      }),
      { seed: 71, numRuns: 300 },
    );
  });

  test("users outside the group in the pool stay outside", () => {
    const base = simulate({ replicas: 2, steps: [], reverseFlush: false }).replicas[0]!;
    assert.deepEqual(listMembers(base), USERS.slice(0, 2));
  });
});
