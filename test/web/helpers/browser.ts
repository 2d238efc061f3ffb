// Headless Chromium for the browser tests and the web benchmark: Debian's
// chromium driven by playwright-core (which downloads no browser of its
// own), started with the flags that keep it off the network, each person
// with a fresh profile folder. On a machine without /usr/bin/chromium the
// tests skip with one line saying why.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM} (install Debian's chromium package; .ci/run does)`;
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

/** One person's browser: its own Chromium with a fresh profile. */
export class PersonBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly #profile: string;
  /** Console errors and failed page scripts (a CSP violation shows here). */
  readonly errors: string[] = [];

  private constructor(context: BrowserContext, page: Page, profile: string) {
    this.context = context;
    this.page = page;
    this.#profile = profile;
    page.on("console", (message) => {
      if (message.type() === "error") this.errors.push(message.text());
    });
    page.on("pageerror", (error) => this.errors.push(error.message));
  }

  static async launch(): Promise<PersonBrowser> {
    const profile = mkdtempSync(join(tmpdir(), "albumshare-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return new PersonBrowser(context, page, profile);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => {});
    rmSync(this.#profile, { recursive: true, force: true });
  }
}
