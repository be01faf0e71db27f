// Shared by the three pages: DOM building (never innerHTML with data), the API client
// with the bearer token, ids and the sign-in box.

import { applyI18n, bindLanguageSelect, onLangChange, t } from "./i18n.js";

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) → an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replace the element's children (null, false and undefined are skipped). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A UUID: crypto.randomUUID where the context allows it, else from getRandomValues. */
export function uuid() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export class NetworkError extends Error {}

/** The API of this origin, with the page's token. */
export class Api {
  constructor(storageKey) {
    this.storageKey = storageKey;
    this.token = localStorage.getItem(storageKey) || "";
    this.onUnauthorized = () => {};
  }

  setToken(token) {
    this.token = token;
    if (token) localStorage.setItem(this.storageKey, token);
    else localStorage.removeItem(this.storageKey);
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async request(method, path, { body, params, headers, signal } = {}) {
    const url = new URL(path, location.origin);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: this.headers(body === undefined ? headers : { "Content-Type": "application/json", ...headers }),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new NetworkError(t("network_error"));
    }
    return response;
  }

  /** JSON of a 2xx answer, or ApiError with the problem document. */
  async json(method, path, options = {}) {
    const response = await this.request(method, path, options);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: text };
    }
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, data);
    }
    return { status: response.status, data, response };
  }

  async get(path, params) {
    return (await this.json("GET", path, { params })).data;
  }

  /** Every item of a collection, following next_cursor. */
  async all(path, params = {}) {
    const items = [];
    let cursor = null;
    do {
      const page = await this.get(path, { ...params, limit: 1000, cursor });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  /** File one event: {status, data} for stored/duplicate, ApiError otherwise. */
  async fileEvent(event) {
    return this.json("POST", "/v1/events", { body: event });
  }

  /** Fetch a file with the bearer header and offer it as a Blob download link. */
  async download(path, params, filename, linkHolder) {
    const response = await this.request("GET", path, { params });
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, problem);
    }
    const blob = await response.blob();
    const href = URL.createObjectURL(blob);
    const link = h("a", { href, download: filename, class: "download-link" }, filename);
    if (linkHolder) fill(linkHolder, h("span", { dataset: { i18n: "downloaded" } }, t("downloaded")), " ", link);
    link.click();
    return { blob, link };
  }
}

/** A translatable part of a message: the key and its values. */
export const tk = (key, vars) => ({ k: key, v: vars });

/** A failure as message parts: the server's detail when there is one. */
export function errorText(error) {
  if (error instanceof ApiError) {
    const p = error.problem || {};
    return [tk("error"), ` ${error.status}: `, p.detail || p.title || error.message];
  }
  if (error instanceof NetworkError) return [tk("network_error")];
  return [error?.message || String(error)];
}

function renderParts(parts) {
  return parts.map((part) => (part && typeof part === "object" ? t(part.k, part.v) : String(part ?? ""))).join("");
}

/** The header's sign-in box, language switch and online indicator. */
export function setupChrome({ api, onSignedIn, onSignedOut }) {
  bindLanguageSelect($("#lang"));
  applyI18n();
  const form = $("#signin-form");
  const input = $("#token-input");
  const out = $("#signout");
  const status = $("#net-status");
  const updateNet = () => {
    if (!status) return;
    status.textContent = navigator.onLine ? t("online") : t("offline");
    status.className = navigator.onLine ? "pill ok" : "pill warn";
  };
  window.addEventListener("online", updateNet);
  window.addEventListener("offline", updateNet);
  onLangChange(updateNet);
  updateNet();
  const show = () => {
    document.body.classList.toggle("signed-in", Boolean(api.token));
    document.body.classList.toggle("signed-out", !api.token);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    api.setToken(token);
    input.value = "";
    show();
    onSignedIn();
  });
  out.addEventListener("click", () => {
    api.setToken("");
    show();
    onSignedOut();
  });
  show();
  return { updateNet, show };
}

/**
 * A status line under a form: `message` is text, a tk() part or a list of both; the
 * translatable parts follow a language switch. `kind` is "ok", "warn" or "err".
 */
export function say(target, message, kind = "ok") {
  if (!target) return;
  const parts = Array.isArray(message) ? message : [message];
  if (parts.some((part) => part && typeof part === "object")) target.dataset.msg = JSON.stringify(parts);
  else delete target.dataset.msg;
  target.textContent = renderParts(parts);
  target.className = `msg ${kind}`;
}

onLangChange(() => {
  for (const el of document.querySelectorAll("[data-msg]")) el.textContent = renderParts(JSON.parse(el.dataset.msg));
});

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
