// A local system (central server and one data server) with the web app in
// front of it and one person logged in: what most web tests start from.
import { after, before } from "node:test";
import { LocalSystem } from "../../session/helpers/local-system.ts";
import { WebProcess } from "./web-process.ts";

export interface WebSystem {
  readonly system: LocalSystem;
  readonly web: WebProcess;
  /** The session cookie of `user`. */
  readonly cookie: string;
  stop(): Promise<void>;
}

export async function startWebSystem(user = "alice"): Promise<WebSystem> {
  const system = await LocalSystem.start(1);
  try {
    const web = await WebProcess.start(system.central, system.root);
    const cookie = await web.login(user);
    return {
      system,
      web,
      cookie,
      stop: async () => {
        await web.stop();
        await system.stop();
      },
    };
  } catch (error) {
    await system.stop();
    throw error;
  }
}

/**
 * Starts a web system before the file's tests and stops it after them;
 * `ready` gets it once it is up.
 */
export function useWebSystem(ready: (system: WebSystem) => void, user = "alice"): void {
  let running: WebSystem | undefined;
  before(async () => {
    running = await startWebSystem(user);
    ready(running);
  });
  after(() => running?.stop());
}
