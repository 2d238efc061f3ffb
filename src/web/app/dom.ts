// Builds DOM nodes for the front end. Text is always a text node (never
// parsed as HTML), so names and chat lines that contain markup show as the
// characters they are. There is deliberately no way here to set innerHTML.

// One byte formatter for the shell and the page: the shared module is pure and
// free of Node APIs, so the front end's bundle takes it as it is.
export { formatBytes } from "../../common/format-bytes.ts";

type Child = Node | string | null | undefined | false;

export interface Attributes {
  [name: string]: string | number | boolean | undefined | ((event: Event) => void);
}

/** An element with attributes (on* names become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString();
}
