// Test support for the album CRDT: a seeded, in-memory network of 2-8 editors
// that perform random operations and exchange deltas with random delivery
// (reordering, duplication, batching, anti-entropy). fast-check generates the
// scenarios; the simulation records every delta and every accepted rating so
// the tests can compare the replicas with an independent oracle.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { AlbumError } from "../../src/common/album-error.ts";
import {
  addFile,
  addMember,
  causalContextOf,
  cloneState,
  compact,
  createAlbumState,
  decodeContext,
  decodeDelta,
  encodeContext,
  encodeDelta,
  join,
  listFiles,
  listMembers,
  mergeInto,
  missingFrom,
  rateFile,
  removeFile,
  removeMember,
  type AlbumDelta,
  type AlbumState,
  type EditorContext,
} from "../../src/crdt/index.ts";

export const USERS = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "joe"];
export const FILE_NAMES = ["a.jpg", "b.jpg", "c.mov", "a.jpg (bob)"];

/** A deterministic 64-hex content key per small integer. */
export function contentKey(n: number): string {
  return createHash("sha256").update(`content ${n}`).digest("hex");
}
export const CONTENT_KEYS = [0, 1, 2, 3].map(contentKey);

/** An album whose group is the first `editors` users (as after a first session). */
export function albumWithMembers(editors: number): AlbumState {
  const state = createAlbumState(USERS[0]!);
  for (let i = 1; i < editors; i++) addMember(state, { slot: 1, user: USERS[0]! }, USERS[i]!);
  return compact(state);
}

export type OpChoice =
  | { kind: "addFile"; name: number; content: number; size: number }
  | { kind: "removeFile"; pick: number }
  | { kind: "rateFile"; pick: number; stars: number }
  | { kind: "addMember"; user: number }
  | { kind: "removeMember"; user: number };

export type Step =
  | { kind: "op"; replica: number; op: OpChoice }
  | { kind: "deliver"; replica: number; picks: number[]; batch: boolean; duplicate: boolean }
  | { kind: "sync"; from: number; to: number }
  | { kind: "snapshot"; replica: number };

export interface Scenario {
  replicas: number;
  steps: Step[];
  /** Order of the final flush: reversed inboxes or not. */
  reverseFlush: boolean;
}

export const opChoice: fc.Arbitrary<OpChoice> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("addFile" as const),
      name: fc.nat(3),
      content: fc.nat(3),
      size: fc.nat(5000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("removeFile" as const), pick: fc.nat(20) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("rateFile" as const),
      pick: fc.nat(20),
      stars: fc.integer({ min: -1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("addMember" as const),
      user: fc.nat(USERS.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("removeMember" as const),
      user: fc.nat(USERS.length - 1),
    }),
  },
);

const replicaIndex = fc.nat(7);
export const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("op" as const), replica: replicaIndex, op: opChoice }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      replica: replicaIndex,
      picks: fc.array(fc.nat(50), { minLength: 1, maxLength: 4 }),
      batch: fc.boolean(),
      duplicate: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("sync" as const),
      from: replicaIndex,
      to: replicaIndex,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("snapshot" as const), replica: replicaIndex }),
  },
);

export const scenario = (maxSteps = 60): fc.Arbitrary<Scenario> =>
  fc.record({
    replicas: fc.integer({ min: 2, max: 8 }),
    steps: fc.array(step, { minLength: 5, maxLength: maxSteps, size: "max" }),
    reverseFlush: fc.boolean(),
  });

export interface AcceptedRating {
  fileId: string;
  stars: number;
}

export interface SimulationResult {
  initial: AlbumState;
  replicas: AlbumState[];
  deltas: AlbumDelta[];
  snapshots: AlbumState[];
  ratings: AcceptedRating[];
  /** Errors the operations threw: all must be AlbumErrors. */
  foreignErrors: unknown[];
}

/** Runs a scenario to quiescence: at the end every replica has received every delta. */
export function simulate(plan: Scenario): SimulationResult {
  const count = plan.replicas;
  const initial = albumWithMembers(count);
  const replicas = Array.from({ length: count }, () => cloneState(initial));
  const editors: EditorContext[] = replicas.map((_, i) => ({ slot: i + 1, user: USERS[i]! }));
  const inboxes: Uint8Array[][] = replicas.map(() => []);
  const deltas: AlbumDelta[] = [];
  const snapshots: AlbumState[] = [cloneState(initial)];
  const ratings: AcceptedRating[] = [];
  const foreignErrors: unknown[] = [];

  const broadcast = (from: number, delta: AlbumDelta): void => {
    deltas.push(delta);
    const bytes = encodeDelta(delta);
    inboxes.forEach((inbox, i) => i !== from && inbox.push(bytes));
  };

  for (const item of plan.steps) {
    switch (item.kind) {
      case "op": {
        const r = item.replica % count;
        try {
          const outcome = perform(replicas[r]!, editors[r]!, item.op);
          if (outcome.rating) ratings.push(outcome.rating);
          broadcast(r, outcome.delta);
        } catch (error) {
          if (!(error instanceof AlbumError)) foreignErrors.push(error);
        }
        break;
      }
      case "deliver": {
        const inbox = inboxes[item.replica % count]!;
        if (inbox.length === 0) break;
        const chosen = [...new Set(item.picks.map((p) => p % inbox.length))];
        const messages = chosen.map((i) => decodeDelta(inbox[i]!));
        const target = replicas[item.replica % count]!;
        if (item.batch)
          mergeInto(
            target,
            messages.reduce((a, b) => join(a, b)),
          );
        else for (const message of messages) mergeInto(target, message);
        if (!item.duplicate) {
          for (const i of chosen.sort((a, b) => b - a)) inbox.splice(i, 1);
        }
        break;
      }
      case "sync": {
        const from = replicas[item.from % count]!;
        const to = replicas[item.to % count]!;
        const context = decodeContext(encodeContext(causalContextOf(to)));
        mergeInto(to, decodeDelta(encodeDelta(missingFrom(from, context))));
        break;
      }
      case "snapshot":
        snapshots.push(cloneState(replicas[item.replica % count]!));
        break;
    }
  }
  inboxes.forEach((inbox, i) => {
    const order = plan.reverseFlush ? [...inbox].reverse() : inbox;
    for (const bytes of order) mergeInto(replicas[i]!, decodeDelta(bytes));
  });
  return { initial, replicas, deltas, snapshots, ratings, foreignErrors };
}

function perform(
  state: AlbumState,
  editor: EditorContext,
  op: OpChoice,
): { delta: AlbumDelta; rating?: AcceptedRating } {
  const pickFile = (pick: number): string => {
    const files = listFiles(state);
    return files.length === 0 ? "no such file" : files[pick % files.length]!.displayName;
  };
  switch (op.kind) {
    case "addFile":
      return {
        delta: addFile(state, editor, {
          name: FILE_NAMES[op.name]!,
          contentKey: CONTENT_KEYS[op.content]!,
          size: op.size,
        }),
      };
    case "removeFile":
      return { delta: removeFile(state, editor, pickFile(op.pick)) };
    case "rateFile": {
      const name = pickFile(op.pick);
      const delta = rateFile(state, editor, name, op.stars);
      const fileId = listFiles(state).find((f) => f.displayName === name)?.fileId;
      return { delta, rating: { fileId: fileId ?? "?", stars: op.stars } };
    }
    case "addMember":
      return { delta: addMember(state, editor, USERS[op.user]!) };
    case "removeMember":
      return { delta: removeMember(state, editor, USERS[op.user]!) };
  }
}

/** All replicas joined, the full-state way. */
export const joinAll = (states: readonly AlbumState[]): AlbumState =>
  states.reduce((a, b) => join(a, b));

/** Members and files expected by the OR-set rule: an add is visible iff no removal names its dot. */
export function oracle(initial: AlbumState, deltas: readonly AlbumDelta[]) {
  const removed = new Set<number>();
  const members = new Map(initial.members);
  const files = new Map([...initial.files].map(([k, e]) => [k, `${e.name}\u0000${e.contentKey}`]));
  const witnesses = new Set<string>();
  for (const delta of deltas) {
    for (const removal of delta.removals.values()) {
      removal.removed.forEach((d) => removed.add(d));
      if (removal.witness) witnesses.add(removal.witness);
    }
    for (const [key, name] of delta.members) members.set(key, name);
    for (const [key, entry] of delta.files)
      files.set(key, `${entry.name}\u0000${entry.contentKey}`);
  }
  const liveMembers = new Set([...members].filter(([k]) => !removed.has(k)).map(([, n]) => n));
  return {
    members: [...(liveMembers.size > 0 ? liveMembers : witnesses)].sort(),
    files: [...new Set([...files].filter(([k]) => !removed.has(k)).map(([, f]) => f))].sort(),
  };
}

export const listedFileIdentities = (state: AlbumState): string[] =>
  listFiles(state)
    .map((f) => `${f.name}\u0000${f.contentKey}`)
    .sort();

export const sortedMembers = (state: AlbumState): string[] => [...listMembers(state)].sort();
