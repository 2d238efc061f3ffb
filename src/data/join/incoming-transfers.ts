// The ranges a joining data server is taking over and who held them, from its
// join plan. While a join is unfinished, a key that the new ring gives us but
// that has not arrived yet is pulled from its previous owner on demand
// (see pull-through.ts). Pure: positions and ranges only.

import { inRange, type ServerId, type TokenRange } from "../../ring/ring.ts";

export interface IncomingTransfer {
  range: TokenRange;
  fromServerId: ServerId;
  fromAddress: string;
}

export class IncomingTransfers {
  private transfers: readonly IncomingTransfer[] = [];

  set(transfers: readonly IncomingTransfer[]): void {
    this.transfers = [...transfers];
  }

  clear(): void {
    this.transfers = [];
  }

  get active(): boolean {
    return this.transfers.length > 0;
  }

  /** The previous holder of `position`, if it lies in a range still being handed over. */
  sourceOf(position: bigint): IncomingTransfer | undefined {
    return this.transfers.find((t) => inRange(position, t.range));
  }

  /** Transfers grouped by the server they come from. */
  bySource(): Map<string, { fromServerId: ServerId; fromAddress: string; ranges: TokenRange[] }> {
    const groups = new Map<
      string,
      { fromServerId: ServerId; fromAddress: string; ranges: TokenRange[] }
    >();
    for (const t of this.transfers) {
      const group = groups.get(t.fromServerId) ?? {
        fromServerId: t.fromServerId,
        fromAddress: t.fromAddress,
        ranges: [],
      };
      group.ranges.push(t.range);
      groups.set(t.fromServerId, group);
    }
    return groups;
  }
}
