// The album's grid of tiles, updated in place: a change adds, moves or
// removes only the tiles concerned, so the grid keeps its scroll position and
// the focus when others edit. Thumbnails load lazily; every thumbnail's alt is
// the file's name (as text).
import { albumPath } from "./api.ts";
import { h } from "./dom.ts";
import type { FileView } from "../live-types.ts";

export function thumbnailUrl(
  album: string,
  file: FileView,
  variant: "thumbnail" | "preview" | "original",
): string {
  return `${albumPath(album)}/files/${file.id}/${variant}`;
}

export class Gallery {
  readonly element = h("ul", { class: "gallery", "aria-label": "Files" });
  readonly #tiles = new Map<string, { tile: HTMLLIElement; signature: string }>();

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
    let previous: Element | null = null;
    for (const file of files) {
      const signature = `${file.name}\u0000${file.thumbnail}\u0000${file.kind}\u0000${file.average}\u0000${file.ratings}`;
      let held = this.#tiles.get(file.id);
      if (!held || held.signature !== signature) {
        const tile = this.#tile(file);
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
  }

  #tile(file: FileView): HTMLLIElement {
    const picture = file.thumbnail
      ? h("img", {
          src: thumbnailUrl(this.album, file, "thumbnail"),
          alt: file.name,
          loading: "lazy",
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
