// Uploads that a data server accepted and has not finished, each tagged with
// the ring version under which it was judged to be ours. Before listing the
// keys of ranges it hands over at ring version V, a server waits for every
// upload accepted under a version older than V: after that, nothing more can
// land in those ranges (newer requests for them are redirected).

export class InFlightUploads {
  private readonly uploads = new Map<number, { ringVersion: number; done: Promise<void> }>();
  private nextId = 1;

  /** Registers an upload; call the returned function when it has finished. */
  begin(ringVersion: number): () => void {
    const id = this.nextId++;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.uploads.set(id, { ringVersion, done });
    return () => {
      this.uploads.delete(id);
      finish();
    };
  }

  /** Waits for every upload accepted under a ring version older than `version`. */
  async drainOlderThan(version: number): Promise<void> {
    const older = [...this.uploads.values()]
      .filter((u) => u.ringVersion < version)
      .map((u) => u.done);
    await Promise.all(older);
  }

  get size(): number {
    return this.uploads.size;
  }
}
