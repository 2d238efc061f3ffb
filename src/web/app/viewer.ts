// The viewer: one file large (the preview picture, or the video itself with
// seeking through range requests), its details, rating (0-5 once), remove
// and download; previous/next with the arrow keys, Escape closes. Rebuilt
// when the album changes, so the details stay current.
import { albumPath, api } from "./api.ts";
import { formatBytes, formatTime, h } from "./dom.ts";
import { thumbnailUrl } from "./gallery.ts";
import type { FileView } from "../live-types.ts";

export class Viewer {
  readonly element = h("section", {
    class: "viewer",
    role: "dialog",
    "aria-modal": "false",
    hidden: true,
  });
  #files: readonly FileView[] = [];
  #openId: string | undefined;
  #shownSignature = "";
  #status = h("p", { role: "alert", class: "error" });

  constructor(private readonly album: string) {
    document.addEventListener("keydown", (event) => {
      if (this.#openId === undefined) return;
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      if (event.key === "ArrowRight") this.step(1);
      else if (event.key === "ArrowLeft") this.step(-1);
      else if (event.key === "Escape") this.close();
      else return;
      event.preventDefault();
    });
  }

  get openFileId(): string | undefined {
    return this.#openId;
  }

  update(files: readonly FileView[]): void {
    this.#files = files;
    if (this.#openId !== undefined) this.#render();
  }

  open(fileId: string): void {
    this.#openId = fileId;
    this.#shownSignature = "";
    this.#status.textContent = "";
    this.#render();
    this.element.querySelector<HTMLElement>(".viewer-close")?.focus();
  }

  close(): void {
    this.#openId = undefined;
    this.element.hidden = true;
    this.element.replaceChildren();
  }

  step(delta: number): void {
    const index = this.#files.findIndex((file) => file.id === this.#openId);
    if (index < 0 || this.#files.length === 0) return;
    const next = this.#files[(index + delta + this.#files.length) % this.#files.length]!;
    this.open(next.id);
  }

  #render(): void {
    const file = this.#files.find((candidate) => candidate.id === this.#openId);
    if (!file) {
      this.close();
      return;
    }
    const signature = JSON.stringify(file);
    if (signature === this.#shownSignature) return;
    // Keep a playing video where it is: only the details are rebuilt.
    const media =
      this.#shownSignature && this.element.querySelector(".viewer-media")
        ? this.element.querySelector(".viewer-media")!
        : this.#media(file);
    this.#shownSignature = signature;
    this.element.hidden = false;
    this.element.setAttribute("aria-label", file.name);
    this.element.replaceChildren(
      h(
        "div",
        { class: "viewer-bar" },
        h("button", { type: "button", onclick: () => this.step(-1) }, "Previous"),
        h("button", { type: "button", onclick: () => this.step(1) }, "Next"),
        h(
          "button",
          { type: "button", class: "viewer-close", onclick: () => this.close() },
          "Close",
        ),
      ),
      media,
      this.#details(file),
    );
  }

  #media(file: FileView): HTMLElement {
    if (file.kind === "video") {
      return h("video", {
        class: "viewer-media",
        controls: true,
        preload: "metadata",
        src: thumbnailUrl(this.album, file, "original"),
        poster: file.preview ? thumbnailUrl(this.album, file, "preview") : undefined,
        "aria-label": file.name,
      });
    }
    if (file.preview) {
      return h("img", {
        class: "viewer-media",
        src: thumbnailUrl(this.album, file, "preview"),
        alt: file.name,
      });
    }
    return h("p", { class: "viewer-media" }, "No picture of this file; download it to open it.");
  }

  #details(file: FileView): HTMLElement {
    const average =
      file.average === null
        ? "No ratings yet"
        : `Average ${file.average.toFixed(2)} from ${file.ratings} rating${file.ratings === 1 ? "" : "s"}`;
    const mine = file.rated
      ? file.myStars === null
        ? "You rated this file."
        : `You rated it ${file.myStars} star${file.myStars === 1 ? "" : "s"}.`
      : "Your rating:";
    const stars = h("div", { role: "group", "aria-label": "Rate this file" });
    for (let value = 0; value <= 5; value++) {
      stars.append(
        h(
          "button",
          {
            type: "button",
            disabled: file.rated,
            "aria-label": `Rate ${value} star${value === 1 ? "" : "s"}`,
            onclick: () =>
              this.#act(() =>
                api("POST", `${albumPath(this.album)}/files/${file.id}/rating`, { stars: value }),
              ),
          },
          value === 0 ? "0" : "★".repeat(value),
        ),
      );
    }
    return h(
      "div",
      { class: "viewer-details" },
      h("h2", {}, file.name),
      h(
        "dl",
        {},
        h("dt", {}, "Added by"),
        h("dd", {}, file.addedBy),
        file.addedAt !== null ? h("dt", {}, "Added") : null,
        file.addedAt !== null ? h("dd", {}, formatTime(file.addedAt)) : null,
        file.takenAt !== null ? h("dt", {}, "Taken") : null,
        file.takenAt !== null ? h("dd", {}, formatTime(file.takenAt)) : null,
        h("dt", {}, "Size"),
        h("dd", {}, formatBytes(file.size)),
        file.width !== null && file.height !== null ? h("dt", {}, "Pixels") : null,
        file.width !== null && file.height !== null
          ? h("dd", {}, `${file.width} × ${file.height}`)
          : null,
        h("dt", {}, "Rating"),
        h("dd", { class: "viewer-average" }, average),
      ),
      h("p", {}, mine),
      file.rated ? null : stars,
      h(
        "div",
        { class: "buttons" },
        h(
          "a",
          { href: `${thumbnailUrl(this.album, file, "original")}?download=1`, download: file.name },
          "Download original",
        ),
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              if (confirm(`Remove ${file.name} from the album?`)) {
                this.#act(() => api("DELETE", `${albumPath(this.album)}/files/${file.id}`));
              }
            },
          },
          "Remove file",
        ),
      ),
      this.#status,
    );
  }

  #act(action: () => Promise<unknown>): void {
    this.#status.textContent = "";
    action().catch((error: Error) => (this.#status.textContent = error.message));
  }
}
