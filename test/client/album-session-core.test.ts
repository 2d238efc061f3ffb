// The album-session core (src/client/session/album-session-core.ts) on its
// own, without sockets or timers: under any sequence of local changes, chat,
// ticks, membership commands, replies and failures, lost and restored
// connections and resume answers (fast-check), it never has two hand-offs in
// flight, never calls the server while the link is down, answers every
// membership command exactly once, and once the link is back and the replies
// are in, the server holds every change and chat message (a resume refused
// as behind, its own later changes having reached the server through a peer,
// claims again); and a resume reply brings back what the notices missed
// meanwhile.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { AlbumSessionCore } from "../../src/client/session/album-session-core.ts";
import type { SessionAction } from "../../src/client/session/session-actions.ts";
import type { OpenedAlbum } from "../../src/client/central-client.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { contextHas } from "../../src/crdt/causal-context.ts";
import { dotKey } from "../../src/crdt/dot.ts";
import {
  addMember,
  compact,
  createAlbumState,
  decodeDelta,
  encodeState,
  mergeInto,
  rateFile,
  addFile,
  listFiles,
  highestCounter,
  type AlbumState,
} from "../../src/crdt/index.ts";
import {
  EditorJoinedSchema,
  NotificationSchema,
} from "../../src/gen/albumshare/central/v1/central_pb.ts";

const KEY = (n: number): string => n.toString(16).padStart(64, "0");

function opened(state: AlbumState, slot: number, extra: Partial<OpenedAlbum> = {}): OpenedAlbum {
  return {
    album: "trip",
    slot,
    sessionId: 1n,
    replica: encodeState(state),
    ratedFileIds: [],
    editors: [],
    handOffIntervalMs: 1000,
    sessionToken: new Uint8Array(16),
    ratingTallies: new Map(),
    highestSlot: slot,
    pastEditors: [],
    resumeKey: new Uint8Array(16).fill(7),
    chatHistory: [],
    resumeGraceMs: 60_000,
    chatSeq: 0,
    ...extra,
  };
}

function baseAlbum(): AlbumState {
  const state = createAlbumState("ann");
  addMember(state, { slot: 1, user: "ann" }, "bob");
  return compact(state);
}

type Step =
  | { kind: "edit" }
  | { kind: "chat" }
  | { kind: "tick" }
  | { kind: "member" }
  | { kind: "reply"; ok: boolean }
  | { kind: "lost" }
  | { kind: "restored" }
  | { kind: "resumeReply"; ok: boolean }
  | { kind: "resumeBehind" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: "edit" }),
  fc.constant<Step>({ kind: "chat" }),
  fc.constant<Step>({ kind: "tick" }),
  fc.constant<Step>({ kind: "member" }),
  fc.boolean().map<Step>((ok) => ({ kind: "reply", ok })),
  fc.constant<Step>({ kind: "lost" }),
  fc.constant<Step>({ kind: "restored" }),
  fc.boolean().map<Step>((ok) => ({ kind: "resumeReply", ok })),
  fc.constant<Step>({ kind: "resumeBehind" }),
);

/** A core with a model of the central server and the link around it. */
class Harness {
  readonly core: AlbumSessionCore;
  readonly server: AlbumState;
  readonly serverChat = new Set<string>();
  /** Requests sent and not answered yet. */
  handOffs: Extract<SessionAction, { kind: "handOff" }>[] = [];
  resumes: Extract<SessionAction, { kind: "resume" }>[] = [];
  readonly settled = new Map<number, number>();
  readonly chatSent: string[] = [];
  linkUp = true;
  #waiters = 0;
  #files = 0;
  #chats = 0;

  constructor() {
    const base = baseAlbum();
    this.server = structuredClone(base);
    this.core = new AlbumSessionCore({
      opened: opened(base, 2),
      user: "bob",
      handOffIntervalMs: 1000,
      canResume: true,
    });
    this.#run(this.core.started("127.0.0.1:1"));
  }

  apply(next: Step): void {
    const core = this.core;
    switch (next.kind) {
      case "edit":
        return this.#run(
          core.localChange(
            core.replica.addFile({
              name: `f${this.#files}.jpg`,
              contentKey: KEY(this.#files++),
              size: 1,
            }),
          ),
        );
      case "chat": {
        const seq = ++this.#chats;
        this.chatSent.push(`2:${seq}`);
        return this.#run(
          core.chatDelivered({
            slot: 2,
            seq,
            senderName: "bob",
            text: `hi ${seq}`,
            sentAtUnixMs: seq,
            clock: new Map([[2, seq]]),
          }),
        );
      }
      case "tick":
        return this.#run(core.tick("handOff"));
      case "member":
        return this.#run(
          core.membershipChange(core.replica.addMember(`u${this.#files++}`), ++this.#waiters),
        );
      case "reply": {
        const request = this.handOffs.shift();
        if (!request) return;
        if (next.ok && this.linkUp) {
          this.#store(request.delta, request.chat);
          return this.#run(core.handOffDone(request.id));
        }
        return this.#run(
          core.handOffFailed(request.id, new AlbumError(ErrorCode.Unavailable, "x")),
        );
      }
      case "lost":
        this.linkUp = false;
        // The client says so at once; what was in flight fails right after
        // (its promises reject on a later tick).
        this.#run(core.connectionLost());
        for (const request of this.handOffs.splice(0)) {
          this.#run(core.handOffFailed(request.id, new AlbumError(ErrorCode.Unavailable, "lost")));
        }
        for (const request of this.resumes.splice(0)) {
          this.#run(core.resumeFailed(request.id, new AlbumError(ErrorCode.Unavailable, "lost")));
        }
        return;
      case "restored":
        if (this.linkUp) return;
        this.linkUp = true;
        return this.#run(core.connectionRestored());
      case "resumeBehind": {
        // Our changes made while the claim was in flight reached the server
        // through a peer first: refused as behind, at our counter now.
        const request = this.resumes.shift();
        if (!request) return;
        mergeInto(this.server, structuredClone(core.replica.state));
        return this.#run(
          core.resumeDone(request.id, {
            outcome: "counterBehind",
            editors: [],
            reason: "behind",
            ratingTallies: new Map(),
            highestSlot: 0,
            knownCounter: highestCounter(this.server, 2),
          }),
        );
      }
      case "resumeReply": {
        const request = this.resumes.shift();
        if (!request) return;
        if (!next.ok) {
          return this.#run(
            core.resumeFailed(request.id, new AlbumError(ErrorCode.Unavailable, "x")),
          );
        }
        this.#store(request.claim.delta, request.claim.chat);
        return this.#run(
          core.resumeDone(request.id, {
            outcome: "resumed",
            editors: [],
            reason: "",
            ratingTallies: new Map(),
            highestSlot: 2,
            knownCounter: 0,
          }),
        );
      }
    }
  }

  /** Link back, every request answered, ticks until nothing is left to hand off. */
  settle(): void {
    for (let round = 0; round < 20; round++) {
      if (!this.linkUp) this.apply({ kind: "restored" });
      while (this.resumes.length > 0) this.apply({ kind: "resumeReply", ok: true });
      if (!this.core.linkUp && this.resumes.length === 0) {
        // A resume that failed as unavailable waits for the next restored connection.
        this.apply({ kind: "lost" });
        continue;
      }
      while (this.handOffs.length > 0) this.apply({ kind: "reply", ok: true });
      if (!this.core.hasUnhanded) return;
      this.apply({ kind: "tick" });
    }
  }

  #store(delta: Uint8Array, chat: readonly { slot: number; seq: number }[]): void {
    if (delta.byteLength > 0) mergeInto(this.server, decodeDelta(delta));
    for (const message of chat) this.serverChat.add(`${message.slot}:${message.seq}`);
  }

  #run(actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case "handOff":
          assert.ok(this.linkUp && this.core.linkUp, "a hand-off while the link is down");
          assert.equal(this.handOffs.length, 0, "two hand-offs in flight");
          this.handOffs.push(action);
          break;
        case "resume":
          assert.ok(this.linkUp, "a resume without a connection");
          assert.equal(this.resumes.length, 0, "two resumes in flight");
          this.resumes.push(action);
          break;
        case "handOffSettled":
          this.settled.set(action.waiter, (this.settled.get(action.waiter) ?? 0) + 1);
          break;
        default:
          break;
      }
    }
  }

  get waiters(): number {
    return this.#waiters;
  }
}

describe("the album-session core", () => {
  test("hand-offs and resumes under any schedule: one in flight, none while the link is down, each command answered once, nothing lost once settled", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const world = new Harness();
        for (const next of steps) world.apply(next);
        world.settle();
        assert.equal(world.core.hasUnhanded, false, "changes left unhanded after settling");
        for (const [slot, counter] of world.core.replica.state.causal.versionVector) {
          for (let n = 1; n <= counter; n++) {
            assert.ok(contextHas(world.server.causal, dotKey(slot, n)), `dot ${slot}.${n} lost`);
          }
        }
        for (const message of world.chatSent) assert.ok(world.serverChat.has(message), message);
        // Ending answers whatever still waits; every command is answered exactly once.
        world.apply({ kind: "tick" });
        for (const request of world.handOffs.splice(0)) world.core.handOffDone(request.id);
        const end = world.core.connectionClosed();
        assert.ok(end.some((action) => action.kind === "end"));
        for (const action of end) {
          if (action.kind === "handOffSettled") {
            world.settled.set(action.waiter, (world.settled.get(action.waiter) ?? 0) + 1);
          }
        }
        for (let waiter = 1; waiter <= world.waiters; waiter++) {
          assert.equal(world.settled.get(waiter), 1, `membership command ${waiter}`);
        }
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  test("a resume reply brings back what the notices missed: editors gone, slots and ratings vouched for", () => {
    // ann (slot 1) added a file; cy (slot 3) joined and rated it while bob was away.
    const base = baseAlbum();
    addMember(base, { slot: 1, user: "ann" }, "cy");
    const core = new AlbumSessionCore({
      opened: opened(base, 2, {
        editors: [
          { slot: 1, user: "ann", address: "a:1", publicKey: new Uint8Array(32).fill(1) },
          { slot: 4, user: "dee", address: "d:1", publicKey: new Uint8Array(32).fill(4) },
        ],
      }),
      user: "bob",
      handOffIntervalMs: 1000,
      canResume: true,
    });
    core.started("b:1");
    const elsewhere = structuredClone(base);
    addFile(elsewhere, { slot: 1, user: "ann" }, { name: "x.jpg", contentKey: KEY(1), size: 1 });
    rateFile(elsewhere, { slot: 3, user: "cy" }, "x.jpg", 4);
    const fileId = listFiles(elsewhere)[0]!.fileId;
    core.connectionLost();
    const [resume] = core.connectionRestored();
    assert.equal(resume?.kind, "resume");
    if (resume?.kind !== "resume") return;
    assert.equal(resume.claim.address, "b:1");
    // Before the reply, a delta from slot 3 with a rating is refused (unknown slot, no tally).
    const joined = encodeState(elsewhere);
    assert.throws(() => core.replica.applyRemote(joined), /refused/);
    const tallies = new Map([[fileId, { raters: 1, stars: 4 }]]);
    const actions = core.resumeDone(resume.id, {
      outcome: "resumed",
      editors: [{ slot: 1, user: "ann", address: "a:2", publicKey: new Uint8Array(32).fill(1) }],
      reason: "",
      ratingTallies: tallies,
      highestSlot: 4,
      knownCounter: 0,
    });
    assert.deepEqual(
      actions.filter((a) => a.kind === "removePeer"),
      [{ kind: "removePeer", slot: 4, revoke: false }],
      "dee left while bob was away",
    );
    assert.ok(
      actions.some(
        (a) => a.kind === "tell" && a.what.event === "editorLeft" && a.what.left.user === "dee",
      ),
    );
    assert.ok(actions.some((a) => a.kind === "addPeer" && a.peer.address === "a:2"));
    assert.deepEqual(core.editors(), [{ slot: 1, user: "ann" }]);
    core.replica.applyRemote(joined);
    assert.equal(core.replica.files()[0]?.ratingCount, 1);
    // A notice of another joiner still works as before.
    const notice = create(NotificationSchema, {
      body: {
        case: "editorJoined",
        value: create(EditorJoinedSchema, {
          album: "trip",
          editor: { slot: 5, user: "eve", address: "e:1", publicKey: new Uint8Array(32).fill(5) },
        }),
      },
    });
    assert.ok(core.notice(notice).some((a) => a.kind === "addPeer" && a.peer.slot === 5));
  });
});
