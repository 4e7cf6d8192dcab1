// Small DOM helpers. Every text goes through text nodes (textContent), never innerHTML:
// post texts, titles and names come from the public and from feeds, and must show as text.

/** Create an element: el("a", {href: url, class: "x"}, "text", otherNode). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, ...children);
  return node;
}

/** Append children: strings and numbers become text nodes; null/false are skipped. */
export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Only http(s) links are followed; anything else (javascript:, data:) is shown as text. */
export function safeLink(url, label) {
  try {
    const parsed = new URL(url, window.location.href);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return el("a", {href: parsed.href, rel: "noopener noreferrer nofollow", target: "_blank"}, label || url);
    }
  } catch (error) {
    // not a URL: fall through
  }
  return document.createTextNode(String(url));
}

export const _ = (text) => (window.gettext ? window.gettext(text) : text);
export const ngettext = (one, many, n) => (window.ngettext ? window.ngettext(one, many, n) : n === 1 ? one : many);
export const fmt = (format, values) =>
  window.interpolate ? window.interpolate(format, values, true) : format.replace(/%\((\w+)\)s/g, (m, k) => values[k]);

/** A date-time in the page's language and the city's time zone (<html data-time-zone>). */
export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: document.documentElement.dataset.timeZone || undefined,
  });
}

/** The CSRF token of the session (Django's csrftoken cookie), for the staff's writes. */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
