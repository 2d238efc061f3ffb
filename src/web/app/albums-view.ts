// "My albums": the albums this user is a member of, with how many edit each
// now, and a form to create one.
import { api } from "./api.ts";
import { clear, h } from "./dom.ts";

interface AlbumSummary {
  name: string;
  memberCount: number;
  editorCount: number;
}

export function albumsView(user: string, header: HTMLElement): HTMLElement {
  const list = h("ul", { class: "albums", "aria-label": "My albums" });
  const status = h("p", { role: "alert", class: "error" });
  const refresh = async (): Promise<void> => {
    try {
      const { albums } = await api<{ albums: AlbumSummary[] }>("GET", "/api/albums");
      clear(list);
      if (albums.length === 0) list.append(h("li", {}, "No albums yet: create one below."));
      for (const album of albums) {
        list.append(
          h(
            "li",
            {},
            h("a", { href: `#/album/${encodeURIComponent(album.name)}` }, album.name),
            ` — ${album.memberCount} member${album.memberCount === 1 ? "" : "s"}, ${album.editorCount} editing now`,
          ),
        );
      }
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  };
  const name = h("input", { id: "new-album", required: true });
  const form = h(
    "form",
    {
      "aria-label": "Create album",
      onsubmit: (event) => {
        event.preventDefault();
        status.textContent = "";
        api("POST", "/api/albums", { name: name.value }).then(
          () => {
            name.value = "";
            return refresh();
          },
          (error: Error) => (status.textContent = error.message),
        );
      },
    },
    h("label", { for: "new-album" }, "New album name"),
    name,
    h("button", { type: "submit" }, "Create album"),
  );
  void refresh();
  return h("div", {}, header, h("main", {}, h("h1", {}, `${user}'s albums`), list, form, status));
}
