// Adding files: a file picker and a drop zone, several files at once, each
// with its own progress bar and Cancel button. A file's bytes are staged on
// the web server first (progress and cancel are those of this transfer),
// then added to the album (the web server stores it on the data servers and
// makes its renditions). For a video the page draws a poster frame itself
// (a canvas frame of the video), so no server-side video tool is needed.
import { albumPath, api, uploadBytes, type UploadHandle } from "./api.ts";
import { h } from "./dom.ts";

export class Uploads {
  readonly element: HTMLElement;
  readonly #list = h("ul", { class: "uploads", "aria-label": "Uploads" });

  constructor(private readonly album: string) {
    const picker = h("input", {
      id: "file-picker",
      type: "file",
      multiple: true,
      onchange: (event) => {
        const input = event.target as HTMLInputElement;
        this.addAll([...(input.files ?? [])]);
        input.value = "";
      },
    });
    const zone = h(
      "div",
      { class: "drop-zone", role: "region", "aria-label": "Drop files here to add them" },
      h("label", { for: "file-picker" }, "Add photos and videos"),
      picker,
      h("span", {}, " or drop files here"),
    );
    this.acceptDrops(zone);
    this.element = h(
      "section",
      { class: "upload-panel", "aria-label": "Add files" },
      zone,
      this.#list,
    );
  }

  /** Files dropped on `target` (the drop zone, the gallery) are added like picked ones. */
  acceptDrops(target: HTMLElement): void {
    target.addEventListener("dragover", (event) => {
      event.preventDefault();
      target.classList.add("dragging");
    });
    target.addEventListener("dragleave", () => target.classList.remove("dragging"));
    target.addEventListener("drop", (event) => {
      event.preventDefault();
      target.classList.remove("dragging");
      this.addAll([...(event.dataTransfer?.files ?? [])]);
    });
  }

  addAll(files: readonly File[]): void {
    for (const file of files) void this.#add(file);
  }

  async #add(file: File): Promise<void> {
    const progress = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const state = h("span", { class: "upload-state" }, "sending");
    let handle: UploadHandle | undefined;
    let cancelled = false;
    const cancel = h(
      "button",
      {
        type: "button",
        "aria-label": `Cancel upload of ${file.name}`,
        onclick: () => {
          cancelled = true;
          handle?.abort();
        },
      },
      "Cancel",
    );
    const row = h("li", {}, h("span", {}, file.name), progress, state, cancel);
    this.#list.append(row);
    try {
      const poster = file.type.startsWith("video/")
        ? await posterFrame(file).catch(() => undefined)
        : undefined;
      let posterId: string | undefined;
      if (poster && !cancelled) {
        handle = uploadBytes(poster, () => {});
        posterId = await handle.done;
      }
      if (cancelled) throw new Error("cancelled");
      handle = uploadBytes(file, (fraction) => (progress.value = fraction));
      const upload = await handle.done;
      progress.value = 1;
      state.textContent = "storing";
      cancel.remove();
      await api("POST", `${albumPath(this.album)}/files`, {
        name: file.name,
        upload,
        ...(posterId ? { poster: posterId } : {}),
      });
      row.remove();
    } catch (error) {
      cancel.remove();
      state.textContent = cancelled ? "cancelled" : `failed: ${(error as Error).message}`;
      state.setAttribute("role", "alert");
      setTimeout(() => row.remove(), cancelled ? 3000 : 15000);
    }
  }
}

/** A still frame of a video file (at a tenth of it, at most 1 s in), as PNG. */
async function posterFrame(file: File): Promise<Blob> {
  const url = URL.createObjectURL(file);
  try {
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "auto";
    video.src = url;
    await new Promise<void>((resolve, reject) => {
      video.onloadeddata = () => resolve();
      video.onerror = () => reject(new Error("cannot decode the video"));
    });
    const at = Number.isFinite(video.duration) ? Math.min(1, video.duration / 10) : 0;
    if (at > 0) {
      await new Promise<void>((resolve) => {
        video.onseeked = () => resolve();
        video.currentTime = at;
      });
    }
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (canvas.width === 0 || canvas.height === 0) throw new Error("the video has no frame size");
    canvas.getContext("2d")!.drawImage(video, 0, 0);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no frame"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}
