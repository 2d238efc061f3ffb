// The album page's side panels: members (add by name with the same checks as
// the shell, remove), who is editing now, and the chat (history on opening,
// causal order as delivered, sender and time; every line is text).
import { albumPath, api } from "./api.ts";
import { clear, h } from "./dom.ts";
import type { AlbumView, ChatView } from "../live-types.ts";

export class MembersPanel {
  readonly element: HTMLElement;
  readonly #list = h("ul", { "aria-label": "Members" });
  readonly #status = h("p", { role: "alert", class: "error" });

  constructor(private readonly album: string) {
    const name = h("input", { id: "member-name", required: true });
    const form = h(
      "form",
      {
        "aria-label": "Add member",
        onsubmit: (event) => {
          event.preventDefault();
          this.#act(() =>
            api("POST", `${albumPath(album)}/members`, { name: name.value }).then(
              () => (name.value = ""),
            ),
          );
        },
      },
      h("label", { for: "member-name" }, "Member name"),
      name,
      h("button", { type: "submit" }, "Add member"),
    );
    this.element = h(
      "section",
      { class: "panel", "aria-label": "Members panel" },
      h("h2", {}, "Members"),
      this.#list,
      form,
      this.#status,
    );
  }

  update(view: AlbumView): void {
    clear(this.#list);
    for (const member of view.members) {
      this.#list.append(
        h(
          "li",
          {},
          h("span", {}, member),
          " ",
          h(
            "button",
            {
              type: "button",
              "aria-label": `Remove member ${member}`,
              onclick: () =>
                this.#act(() =>
                  api("DELETE", `${albumPath(this.album)}/members/${encodeURIComponent(member)}`),
                ),
            },
            "Remove",
          ),
        ),
      );
    }
  }

  #act(action: () => Promise<unknown>): void {
    this.#status.textContent = "";
    action().catch((error: Error) => (this.#status.textContent = error.message));
  }
}

export class EditorsPanel {
  readonly #list = h("ul", { "aria-label": "Editing now" });
  readonly element = h(
    "section",
    { class: "panel", "aria-label": "Editing now panel" },
    h("h2", {}, "Editing now"),
    this.#list,
  );

  update(view: AlbumView): void {
    clear(this.#list);
    for (const editor of view.editors) {
      this.#list.append(
        h(
          "li",
          {},
          editor.user === view.me && editor.slot === view.slot
            ? `${editor.user} (you)`
            : editor.user,
        ),
      );
    }
  }
}

export class ChatPanel {
  readonly element: HTMLElement;
  readonly #log = h("ol", {
    class: "chat-log",
    role: "log",
    "aria-label": "Chat messages",
    "aria-live": "polite",
  });
  readonly #status = h("p", { role: "alert", class: "error" });
  readonly #input = h("input", {
    id: "chat-input",
    autocomplete: "off",
    maxlength: 4000,
    required: true,
  });

  constructor(album: string) {
    const form = h(
      "form",
      {
        "aria-label": "Send a chat message",
        onsubmit: (event) => {
          event.preventDefault();
          const text = this.#input.value;
          if (text.trim() === "") return;
          this.#status.textContent = "";
          api("POST", `${albumPath(album)}/chat`, { text }).then(
            () => (this.#input.value = ""),
            (error: Error) => (this.#status.textContent = error.message),
          );
        },
      },
      h("label", { for: "chat-input" }, "Message"),
      this.#input,
      h("button", { type: "submit" }, "Send"),
    );
    this.element = h(
      "section",
      { class: "panel chat", "aria-label": "Chat" },
      h("h2", {}, "Chat"),
      this.#log,
      form,
      this.#status,
    );
  }

  add(message: ChatView): void {
    const time = new Date(message.time).toLocaleTimeString();
    this.#log.append(
      h(
        "li",
        {},
        h("time", { datetime: new Date(message.time).toISOString() }, time),
        " ",
        h("b", {}, message.from),
        ": ",
        h("span", { class: "chat-text" }, message.text),
      ),
    );
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  disable(): void {
    this.#input.disabled = true;
  }
}
