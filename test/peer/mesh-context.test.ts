// Meshes of one process share a ZeroMQ context and its one ZAP handler
// (mesh-context.ts): each handshake must be judged by the table of the mesh
// it was made to, never by another mesh's — of another session or of the
// same one — and the handler runs exactly while some mesh is registered.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { MeshContext } from "../../src/peer/mesh-context.ts";
import { PeerMesh } from "../../src/peer/peer-mesh.ts";
import type { SessionKeys } from "../../src/peer/peer-keys.ts";
import { z85Encode } from "../../src/peer/z85.ts";
import { eventually } from "../support/eventually.ts";
import { contactOf, meshOptions, newSessionToken } from "./fixtures/test-session.ts";

const shared = new MeshContext();
const started: PeerMesh[] = [];
const dealers: Dealer[] = [];

async function startMesh(
  slot: number,
  token: Uint8Array,
): Promise<{ mesh: PeerMesh; keys: SessionKeys }> {
  const options = meshOptions(slot, token, { context: shared });
  const mesh = new PeerMesh(options);
  await mesh.start();
  started.push(mesh);
  return { mesh, keys: options.keys };
}

/** A raw CURVE client with `keys` knocking on `target` (what a hostile process would do). */
function knock(target: { mesh: PeerMesh; keys: SessionKeys }, keys: SessionKeys): void {
  const dealer = new Dealer({
    linger: 0,
    curveServerKey: z85Encode(target.keys.publicKey),
    curvePublicKey: keys.publicKeyZ85,
    curveSecretKey: keys.secretKeyZ85,
  });
  dealers.push(dealer);
  dealer.connect(`tcp://${target.mesh.address}`);
}

after(async () => {
  for (const dealer of dealers) dealer.close();
  await Promise.all(started.map((mesh) => mesh.stop()));
});

describe("meshes sharing one ZeroMQ context", () => {
  test("each handshake is judged by the table of the mesh it was made to", async () => {
    const sessionX = newSessionToken();
    const sessionY = newSessionToken();
    const x1 = await startMesh(1, sessionX);
    const x2 = await startMesh(2, sessionX);
    const x3 = await startMesh(3, sessionX);
    const y1 = await startMesh(1, sessionY);
    // x1 admits x2's key; nobody else does.
    x1.mesh.admit(contactOf(x2.mesh, x2.keys, "bob"));
    knock(x1, x2.keys); // admitted: the mesh it was made to vouches for it
    knock(y1, x2.keys); // another session's mesh in the same process: refused
    knock(x3, x2.keys); // the same session, a mesh that did not admit it: refused
    await eventually(() => x1.mesh.admissions.admitted === 1, "x1 admitted x2's key");
    await eventually(() => y1.mesh.admissions.refused >= 1, "y1 refused x2's key");
    await eventually(() => x3.mesh.admissions.refused >= 1, "x3 refused x2's key");
    assert.equal(x1.mesh.admissions.refused, 0);
    assert.equal(y1.mesh.admissions.admitted, 0);
    assert.equal(x3.mesh.admissions.admitted, 0);
    assert.equal(x2.mesh.admissions.admitted + x2.mesh.admissions.refused, 0);
  });

  test("a stopped mesh's domain is refused, and the handler runs only while a mesh is registered", async () => {
    const own = new MeshContext();
    const token = newSessionToken();
    const a = new PeerMesh(meshOptions(1, token, { context: own }));
    const b = new PeerMesh(meshOptions(2, token, { context: own }));
    assert.equal(own.authenticating, false);
    await a.start();
    await b.start();
    assert.equal(own.authenticating, true);
    await a.stop();
    assert.equal(own.authenticating, true, "b still needs it");
    await b.stop();
    assert.equal(own.authenticating, false);
    // Started again on demand (the in-process endpoint bound anew), and it judges again.
    const cOptions = meshOptions(3, token, { context: own });
    const c = new PeerMesh(cOptions);
    const dOptions = meshOptions(4, token, { context: own });
    const d = new PeerMesh(dOptions);
    started.push(c, d);
    await Promise.all([c.start(), d.start()]);
    assert.equal(own.authenticating, true);
    c.admit(contactOf(d, dOptions.keys, "dan"));
    knock({ mesh: c, keys: cOptions.keys }, dOptions.keys);
    await eventually(() => c.admissions.admitted === 1, "c admitted d's key");
  });
});
