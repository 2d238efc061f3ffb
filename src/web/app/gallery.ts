// The album's grid of tiles, updated in place: a change adds, moves or
// removes only the tiles concerned, so the grid keeps its scroll position and
// the focus when others edit. The first screen's thumbnails load at once,
// the others lazily; every thumbnail's alt is the file's name (as text). A
// large album is laid out a slice at a time:
// the first screen's tiles at once, the rest in small slices while the
// browser is idle, so the first thumbnails are asked for, loaded and shown
// before a thousand tiles are built; every tile is then in the page (found
// by role and name, reached by the keyboard, found by the browser's search).
import { albumPath } from "./api.ts";
import { h } from "./dom.ts";
import type { FileView } from "../live-types.ts";

export function thumbnailUrl(
  album: string,
  file: FileView,
  variant: "thumbnail" | "preview" | "original",
): string {
  // The version tag lets the browser keep a picture for good (the server says so for current tags).
  const version = variant === "original" ? "" : `?v=${encodeURIComponent(file.version)}`;
  return `${albumPath(album)}/files/${file.id}/${variant}${version}`;
}

/** Tiles laid out per idle slice after the first screen (small: image loads go between them). */
const SLICE = 50;
/** An idle slice runs at the latest after this long, even on a busy page. */
const IDLE_TIMEOUT_MS = 500;

/** At least as many tiles as the window can show at once (tiles are at least 160 px wide). */
function firstScreenTiles(): number {
  return Math.max(24, Math.ceil(innerWidth / 160) * Math.ceil(innerHeight / 160));
}

export class Gallery {
  readonly element = h("ul", { class: "gallery", "aria-label": "Files" });
  readonly #tiles = new Map<string, { tile: HTMLLIElement; signature: string }>();
  /** The files being laid out, and how many of them are in place. */
  #files: readonly FileView[] = [];
  #placed = 0;
  #later: (() => void) | undefined;
  /** Tiles this close to the top load their thumbnail at once (no wait for layout to say it shows). */
  #eager = 0;

  constructor(
    private readonly album: string,
    private readonly onOpen: (fileId: string) => void,
  ) {}

  update(files: readonly FileView[]): void {
    const wanted = new Set(files.map((file) => file.id));
    for (const [id, { tile }] of this.#tiles) {
      if (!wanted.has(id)) {
        tile.remove();
        this.#tiles.delete(id);
      }
    }
    this.#files = files;
    this.#placed = 0;
    this.#eager = firstScreenTiles();
    // Twice the first screen: a scroll right after the first paint finds tiles.
    this.#place(this.#eager * 2);
  }

  /** Puts the next `count` files' tiles in place; the rest follow in idle slices. */
  #place(count: number): void {
    this.#later?.();
    this.#later = undefined;
    const files = this.#files;
    const end = Math.min(files.length, this.#placed + count);
    let previous: Element | null =
      this.#placed === 0 ? null : this.#tiles.get(files[this.#placed - 1]!.id)!.tile;
    for (const [offset, file] of files.slice(this.#placed, end).entries()) {
      const signature = `${file.name}\u0000${file.version}\u0000${file.thumbnail}\u0000${file.kind}\u0000${file.average}\u0000${file.ratings}`;
      let held = this.#tiles.get(file.id);
      if (!held || held.signature !== signature) {
        const tile = this.#tile(file, this.#placed + offset < this.#eager);
        if (held) held.tile.replaceWith(tile);
        held = { tile, signature };
        this.#tiles.set(file.id, held);
      }
      const expected: Element | null = previous
        ? previous.nextElementSibling
        : this.element.firstElementChild;
      if (expected !== held.tile) {
        if (previous) previous.after(held.tile);
        else this.element.prepend(held.tile);
      }
      previous = held.tile;
    }
    this.#placed = end;
    if (end < files.length) this.#later = whenIdle(() => this.#place(SLICE));
  }

  #tile(file: FileView, eager: boolean): HTMLLIElement {
    const picture = file.thumbnail
      ? h("img", {
          src: thumbnailUrl(this.album, file, "thumbnail"),
          alt: file.name,
          loading: eager ? "eager" : "lazy",
          decoding: "async",
          width: 256,
          height: 256,
        })
      : h(
          "span",
          { class: `tile-kind tile-${file.kind}`, "aria-hidden": "true" },
          file.kind === "video" ? "▶ video" : "file",
        );
    const rating = file.average === null ? "" : `★ ${file.average.toFixed(1)} (${file.ratings})`;
    return h(
      "li",
      { class: `tile tile-${file.kind}`, "data-file-id": file.id },
      h(
        "button",
        {
          type: "button",
          class: "tile-open",
          "aria-label": `Open ${file.name}`,
          onclick: () => this.onOpen(file.id),
        },
        picture,
        file.kind === "video" && file.thumbnail
          ? h("span", { class: "tile-badge", "aria-hidden": "true" }, "▶")
          : null,
      ),
      h("span", { class: "tile-name" }, file.name),
      rating ? h("span", { class: "tile-rating" }, rating) : null,
    );
  }
}

/** Runs `task` when the browser is idle (or soon, where it cannot tell); returns a cancel. */
function whenIdle(task: () => void): () => void {
  if (typeof requestIdleCallback === "function") {
    const id = requestIdleCallback(task, { timeout: IDLE_TIMEOUT_MS });
    return () => cancelIdleCallback(id);
  }
  const id = setTimeout(task, 16);
  return () => clearTimeout(id);
}
