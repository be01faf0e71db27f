// The tablet's outbox: every captured event is written to IndexedDB before anything
// else, then sent through POST /v1/sync. An item moves queued → sent → one of the
// server's answers (stored, duplicate, conflict, invalid). Nothing is ever shown as
// saved before the server says so; a reload or a dead battery loses nothing, and an
// event that may have reached the server is simply sent again (answering duplicate).

const DB_NAME = "fieldlog-tablet";
const STORE = "outbox";
const BATCH = 200;
const SYNC_TIMEOUT_MS = 30000;

export const SAVED = new Set(["stored", "duplicate"]);
export const FAILED = new Set(["conflict", "invalid"]);

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const store = db.createObjectStore(STORE, { keyPath: "event_id" });
        store.createIndex("seq", "seq");
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class Outbox {
  constructor({ api, deviceId, onChange, onAuthFailed, onNotice }) {
    this.api = api;
    this.deviceId = deviceId;
    this.onChange = onChange || (() => {});
    this.onAuthFailed = onAuthFailed || (() => {});
    this.onNotice = onNotice || (() => {});
    this.db = null;
    this.syncing = false;
    this.again = false;
    this.pausedUntil = 0;
    this.lastSync = null;
  }

  async open() {
    this.db = await openDb();
    // A request that was in flight when the page died has no answer: send it again.
    for (const item of await this.items()) {
      if (item.status === "sent") await this.put({ ...item, status: "queued" });
    }
    return this;
  }

  async tx(mode, fn) {
    const tx = this.db.transaction(STORE, mode);
    const result = await fn(tx.objectStore(STORE));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    });
    return result;
  }

  put(item) {
    return this.tx("readwrite", (store) => promisify(store.put(item)));
  }

  /** Every item in capture order. */
  async items() {
    const all = await this.tx("readonly", (store) => promisify(store.getAll()));
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** Keep the event on the device first; the returned promise resolves once it is durable. */
  async add(event) {
    const item = {
      event_id: event.event_id,
      seq: Date.now() * 1000 + (performance.now() % 1000),
      event,
      status: "queued",
      detail: null,
      queued_at: new Date().toISOString(),
      answered_at: null,
    };
    await this.put(item);
    this.onChange();
    return item;
  }

  async remove(eventId) {
    await this.tx("readwrite", (store) => promisify(store.delete(eventId)));
    this.onChange();
  }

  async clearSaved() {
    for (const item of await this.items()) {
      if (SAVED.has(item.status)) await this.tx("readwrite", (store) => promisify(store.delete(item.event_id)));
    }
    this.onChange();
  }

  async requeue(eventId) {
    const item = await this.tx("readonly", (store) => promisify(store.get(eventId)));
    if (item) await this.put({ ...item, status: "queued", detail: null });
    this.onChange();
  }

  /** Send every queued item (in capture order, in batches); safe to call at any time. */
  async sync() {
    if (this.syncing) {
      this.again = true;
      return;
    }
    if (!navigator.onLine || !this.api.token || Date.now() < this.pausedUntil) return;
    this.syncing = true;
    try {
      const run = async () => {
        do {
          this.again = false;
          while (await this.sendBatch()) {
            /* keep going while there is more */
          }
        } while (this.again);
      };
      if (navigator.locks?.request) await navigator.locks.request("fieldlog-outbox-sync", run);
      else await run();
    } finally {
      this.syncing = false;
    }
  }

  /** One POST /v1/sync; answers whether another batch may follow. */
  async sendBatch() {
    const queued = (await this.items()).filter((item) => item.status === "queued").slice(0, BATCH);
    if (!queued.length || !navigator.onLine) return false;
    for (const item of queued) await this.put({ ...item, status: "sent" });
    this.onChange();
    const back = async () => {
      for (const item of queued) await this.put({ ...item, status: "queued" });
      this.onChange();
    };
    let response;
    try {
      response = await this.api.request("POST", "/v1/sync", {
        body: { device_id: this.deviceId, events: queued.map((item) => item.event) },
        signal: AbortSignal.timeout ? AbortSignal.timeout(SYNC_TIMEOUT_MS) : undefined,
      });
    } catch {
      await back();
      return false;
    }
    if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After")) || 30;
      this.pausedUntil = Date.now() + wait * 1000;
      this.onNotice("retry_after", { n: wait });
      await back();
      return false;
    }
    if (!response.ok) {
      await back();
      if (response.status === 401) this.onAuthFailed();
      else this.onNotice("error", { status: response.status });
      return false;
    }
    let body;
    try {
      body = await response.json();
    } catch {
      await back();
      return false;
    }
    const byId = new Map((body.results || []).map((r) => [r.event_id, r]));
    const answeredAt = new Date().toISOString();
    for (const [index, item] of queued.entries()) {
      const result = byId.get(item.event_id) ?? body.results?.[index];
      if (!result) {
        await this.put({ ...item, status: "queued" });
        continue;
      }
      await this.put({
        ...item,
        status: result.result,
        detail: result.detail || null,
        version: result.version ?? null,
        position: result.position ?? null,
        answered_at: answeredAt,
      });
    }
    this.lastSync = new Date();
    this.onChange();
    return queued.length === BATCH;
  }
}
