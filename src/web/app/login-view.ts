// The login / register page: one form, two buttons, one error line.
import { api } from "./api.ts";
import { h } from "./dom.ts";

export function loginView(onLoggedIn: (user: string) => void): HTMLElement {
  const name = h("input", {
    id: "login-name",
    name: "name",
    autocomplete: "username",
    required: true,
  });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const status = h("p", { role: "alert", class: "error" });
  const run = async (action: "login" | "register"): Promise<void> => {
    status.textContent = "";
    try {
      const credentials = { name: name.value, password: password.value };
      if (action === "register") await api("POST", "/api/register", credentials);
      const reply = await api<{ user: string }>("POST", "/api/login", credentials);
      onLoggedIn(reply.user);
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  };
  const form = h(
    "form",
    {
      "aria-label": "Log in or register",
      onsubmit: (event) => (event.preventDefault(), void run("login")),
    },
    h("label", { for: "login-name" }, "Name"),
    name,
    h("label", { for: "login-password" }, "Password"),
    password,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit" }, "Log in"),
      h("button", { type: "button", onclick: () => void run("register") }, "Register"),
    ),
    status,
  );
  return h("main", { class: "login" }, h("h1", {}, "AlbumSharing"), form);
}
