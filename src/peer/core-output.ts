// The action list the session core and its parts append to while handling
// one event (session-core.ts, replica-exchange.ts, chat-exchange.ts): each
// event's actions are returned together, in the order they were decided.
// Pure: it only collects. Must never carry actions over from one event to
// the next (flush() hands them all out and starts empty).
import type { PeerMessageBody } from "./peer-codec.ts";
import type { CoreAction } from "./session-core-types.ts";
import type { SessionSlot } from "./vector-clock.ts";

export class CoreOutput {
  #actions: CoreAction[] = [];

  push(action: CoreAction): void {
    this.#actions.push(action);
  }

  send(to: SessionSlot, body: PeerMessageBody): void {
    this.#actions.push({ kind: "send", to, body });
  }

  broadcast(body: PeerMessageBody): void {
    this.#actions.push({ kind: "broadcast", body });
  }

  /** The actions decided since the last flush, in order. */
  flush(): CoreAction[] {
    const actions = this.#actions;
    this.#actions = [];
    return actions;
  }
}
