// @stampede/client for browsers (window.StampedeClient), built by
// `npm run build` in clients/js from its TypeScript sources. Do not edit.
"use strict";
var StampedeClient = (() => {
  var __defProp = Object.defineProperty;
  var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
  var __getOwnPropNames = Object.getOwnPropertyNames;
  var __hasOwnProp = Object.prototype.hasOwnProperty;
  var __export = (target, all) => {
    for (var name in all)
      __defProp(target, name, { get: all[name], enumerable: true });
  };
  var __copyProps = (to, from, except, desc) => {
    if (from && typeof from === "object" || typeof from === "function") {
      for (let key of __getOwnPropNames(from))
        if (!__hasOwnProp.call(to, key) && key !== except)
          __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
    }
    return to;
  };
  var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

  // src/index.ts
  var index_exports = {};
  __export(index_exports, {
    ChatClient: () => ChatClient,
    connect: () => connect,
    decodeText: () => decodeText,
    login: () => login,
    newClientId: () => newClientId
  });

  // src/backoff.ts
  var Backoff = class {
    constructor(options = {}, random = Math.random) {
      this.random = random;
      this.min = Math.max(0, options.minDelayMs ?? 500);
      this.max = Math.max(this.min, options.maxDelayMs ?? 15e3);
      this.current = this.min;
    }
    /** The next delay; each call doubles the next one, up to the cap. */
    next() {
      const base = this.current;
      this.current = Math.min(this.current * 2, this.max);
      return Math.round(base / 2 + this.random() * base / 2);
    }
    /** After a connection that opened: start from the minimum again. */
    reset() {
      this.current = this.min;
    }
  };

  // src/emitter.ts
  var Emitter = class {
    constructor() {
      this.handlers = /* @__PURE__ */ new Map();
    }
    on(name, handler) {
      let set = this.handlers.get(name);
      if (!set) this.handlers.set(name, set = /* @__PURE__ */ new Set());
      set.add(handler);
      return () => this.off(name, handler);
    }
    off(name, handler) {
      this.handlers.get(name)?.delete(handler);
    }
    emit(name, event) {
      for (const handler of [...this.handlers.get(name) ?? []]) {
        try {
          handler(event);
        } catch (error) {
          setTimeout(() => {
            throw error;
          }, 0);
        }
      }
    }
  };

  // src/events.ts
  var EVENT_OF_FRAME = {
    "chat.message": "message"
  };

  // src/seen.ts
  var SeenIds = class {
    constructor(limit = 5e3) {
      this.limit = limit;
      this.ids = /* @__PURE__ */ new Set();
      this.floor = 0;
    }
    /** True the first time `id` is offered, false ever after. */
    first(id) {
      if (id <= this.floor || this.ids.has(id)) return false;
      this.ids.add(id);
      if (this.ids.size > this.limit) {
        for (const old of this.ids) {
          this.ids.delete(old);
          if (old > this.floor) this.floor = old;
          if (this.ids.size <= this.limit / 2) break;
        }
      }
      return true;
    }
  };

  // src/transport.ts
  var OPEN = 1;
  function defaultSocket() {
    const ctor = globalThis.WebSocket;
    if (!ctor) {
      throw new Error(
        '@stampede/client: no global WebSocket here; pass one, e.g. `import WebSocket from "ws"; connect({ ..., WebSocket })`'
      );
    }
    return ctor;
  }
  function defaultFetch() {
    const f = globalThis.fetch;
    return f ? f.bind(globalThis) : void 0;
  }
  function inBrowser() {
    return typeof globalThis.document !== "undefined";
  }
  function originOf(url) {
    return new URL(url).origin;
  }
  function chatSocketUrl(url, streamId, query) {
    const base = new URL(url);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    base.pathname = `/ws/chat/stream_${streamId}/`;
    base.search = new URLSearchParams(query).toString();
    base.hash = "";
    return base.toString();
  }

  // src/client.ts
  var FINAL_CODES = /* @__PURE__ */ new Set([1e3, 4401, 4403]);
  var NOT_ROOM_EVENTS = /* @__PURE__ */ new Set(["recovered", "presence", "stream.ended", "ban.lifted", "error"]);
  var ChatClient = class extends Emitter {
    constructor(options) {
      super();
      this.options = options;
      this.socket = null;
      this.state = "connecting";
      this.stopped = false;
      this.ended = false;
      this.attempt = 0;
      this.offset = null;
      this.epoch = null;
      /** The last `banned` refusal's details, for the 4403 close after it. */
      this.lastBan = null;
      /** Ids of the history being replayed (fresh join or failed resume). */
      this.history = null;
      this.unsent = /* @__PURE__ */ new Map();
      this.seen = new SeenIds();
      this.backoff = new Backoff(options.reconnect);
      this.readOnly = options.readOnly ?? false;
    }
    /** Whether the socket is (or will be, on reconnect) read-only. */
    get isReadOnly() {
      return this.readOnly;
    }
    /** Where the connection stands. */
    get status() {
      return this.state;
    }
    /** The last logged event seen (what a reconnect resumes after). */
    get position() {
      return { offset: this.offset, epoch: this.epoch };
    }
    /** Lines sent here and not yet answered, oldest first. */
    get pending() {
      return [...this.unsent.values()];
    }
    /**
     * Sends a chat line; returns its `client_id`. Until its echo (a `message`
     * with that `client_id`) or a refusal (an `error` with it) arrives, the
     * line is sent again with the same id each time a socket opens, and the
     * server stores it once.
     */
    send(text, options = {}) {
      if (this.stopped) throw new Error("@stampede/client: the connection is closed");
      const clientId = newClientId();
      const line = { clientId, text };
      if (options.replyTo !== void 0) line.replyTo = options.replyTo;
      this.unsent.set(clientId, line);
      this.transmit(line);
      return clientId;
    }
    /** Edits one of your own lines. False when not connected. */
    edit(id, text) {
      return this.command({ type: "chat.edit", id, message: text });
    }
    /** Sends a stamp. False when not connected. */
    react(stampId) {
      return this.command({ type: "reaction", stamp_id: stampId });
    }
    // Moderation (moderators of the stream; others get an `error` forbidden).
    // Each returns false when not connected: unlike lines, commands are not
    // resent, as a repeated one may not mean the same (a second delete).
    pin(id) {
      return this.command({ type: "chat.pin", id });
    }
    unpin() {
      return this.command({ type: "chat.unpin" });
    }
    delete(id) {
      return this.command({ type: "chat.delete", id });
    }
    /** Removes one user's lines, or every line. */
    clear(username) {
      return this.command(username === void 0 ? { type: "chat.clear" } : { type: "chat.clear", username });
    }
    ban(username, options = {}) {
      const frame = { type: "ban", username };
      if (options.durationSecs !== void 0) frame.duration_secs = options.durationSecs;
      if (options.reason !== void 0) frame.reason = options.reason;
      if (options.scope !== void 0) frame.scope = options.scope;
      return this.command(frame);
    }
    unban(username, options = {}) {
      const frame = { type: "unban", username };
      if (options.scope !== void 0) frame.scope = options.scope;
      return this.command(frame);
    }
    /** Seconds between a viewer's lines (3–120), or 0 for off. */
    slowMode(seconds) {
      return this.command({ type: "slow_mode", seconds });
    }
    /** Shows a line auto-moderation held. */
    approve(id) {
      return this.command({ type: "chat.approve", id });
    }
    /** Keeps a held line hidden. */
    deny(id) {
      return this.command({ type: "chat.deny", id });
    }
    /**
     * Any client frame (docs/protocol.md §1.2), for what has no method of its
     * own. False when not connected; not resent.
     */
    sendFrame(frame) {
      return this.command(frame);
    }
    /**
     * Switches between a read-only socket and a normal one: the current
     * socket is replaced by one of the other kind, resuming where it was.
     */
    setReadOnly(on) {
      if (this.stopped || on === this.readOnly) return;
      this.readOnly = on;
      if (!on) this.lastBan = null;
      const socket = this.socket;
      this.socket = null;
      this.history = null;
      clearTimeout(this.retryTimer);
      clearTimeout(this.pingTimer);
      if (socket) {
        detach(socket);
        socket.close(1e3);
      }
      this.open();
    }
    /** Closes the connection for good. */
    close() {
      if (this.stopped) return;
      const socket = this.socket;
      this.finish({ code: 1e3, reason: "closed by the client", willReconnect: false });
      if (socket) {
        detach(socket);
        socket.close(1e3);
      }
    }
    /** Starts the first connection (`connect` calls it). */
    start() {
      this.open();
      return this;
    }
    open() {
      const origin = this.nextUrl();
      const resumed = this.offset !== null && this.epoch !== null;
      const query = {};
      if (resumed) {
        query.since_offset = String(this.offset);
        query.epoch = String(this.epoch);
      }
      if (this.readOnly) query.read_only = "1";
      const url = chatSocketUrl(origin, this.options.streamId, query);
      const Socket = this.options.WebSocket ?? defaultSocket();
      const headers = this.headers(origin);
      let socket;
      try {
        socket = headers ? new Socket(url, [], { headers }) : new Socket(url);
      } catch (error) {
        this.finish({ code: 1006, reason: String(error), willReconnect: false });
        throw error;
      }
      this.socket = socket;
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.backoff.reset();
        this.history = resumed ? null : [];
        this.setStatus("open");
        this.emit("open", { url: origin, resumed });
        this.watch(socket);
        for (const line of this.unsent.values()) this.transmit(line);
      };
      socket.onmessage = (event) => {
        this.watch(socket);
        if (typeof event.data === "string") this.receive(event.data);
      };
      socket.onerror = () => {
      };
      socket.onclose = (event) => {
        detach(socket);
        if (this.socket === socket) this.socket = null;
        this.history = null;
        clearTimeout(this.pingTimer);
        this.closed(event.code, event.reason ?? "", opened, origin);
      };
      socket.on?.("ping", () => this.watch(socket));
    }
    headers(origin) {
      if (inBrowser() && this.options.cookie === void 0 && this.options.origin === void 0) {
        return void 0;
      }
      const headers = { Origin: this.options.origin ?? originOf(origin) };
      if (this.options.cookie) headers.Cookie = this.options.cookie;
      return headers;
    }
    nextUrl() {
      const { url } = this.options;
      const attempt = this.attempt++;
      if (typeof url === "function") return url(attempt);
      if (typeof url === "string") return url;
      if (url.length === 0) throw new Error("@stampede/client: url is an empty list");
      return url[attempt % url.length];
    }
    receive(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object" || typeof frame.type !== "string") return;
      if (typeof frame.offset === "number" && typeof frame.epoch === "string") {
        this.offset = frame.offset;
        this.epoch = frame.epoch;
      }
      this.trackHistory(frame);
      this.emit("frame", frame);
      switch (frame.type) {
        case "recovered":
          if (!frame.recovered) {
            this.offset = null;
            this.epoch = null;
            this.history = [];
          }
          break;
        case "chat.message":
          if (typeof frame.client_id === "string") this.unsent.delete(frame.client_id);
          if (typeof frame.id === "number" && !this.seen.first(frame.id)) return;
          break;
        case "chat.held":
          if (typeof frame.message.client_id === "string") this.unsent.delete(frame.message.client_id);
          break;
        case "error":
          if (typeof frame.client_id === "string") this.unsent.delete(frame.client_id);
          if (frame.code === "banned" && "until" in frame) {
            this.lastBan = { until: frame.until ?? null, reason: frame.reason ?? null };
          }
          break;
        case "stream.ended":
          this.ended = true;
          break;
      }
      const name = EVENT_OF_FRAME[frame.type] ?? frame.type;
      this.emit(name, frame);
    }
    /**
     * Collects the ids of a history replay; at the first frame after it,
     * emits `history` (lines stored from the oldest of them on that are not
     * among them were deleted while this client was away).
     */
    trackHistory(frame) {
      const ids = this.history;
      if (!ids) return;
      if ("history" in frame && frame.history === true) {
        if ("id" in frame && typeof frame.id === "number") ids.push(frame.id);
        return;
      }
      if (NOT_ROOM_EVENTS.has(frame.type)) return;
      this.history = null;
      this.emit("history", { ids, pinned: frame.type === "chat.pin" });
    }
    /** Banned: go on reading on a read-only socket from here. */
    readOnlyAfterBan(ban) {
      this.readOnly = true;
      this.lastBan = ban;
      this.emit("banned", ban);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (!this.stopped) this.open();
      }, 0);
    }
    closed(code, reason, opened, origin) {
      if (this.stopped) return;
      if (code === 4403 && !this.ended && this.options.onBan === "readOnly" && !this.readOnly) {
        this.emit("close", { code, reason, willReconnect: true, delayMs: 0 });
        this.readOnlyAfterBan(this.lastBan ?? { until: null, reason: null });
        return;
      }
      if (this.ended || FINAL_CODES.has(code)) {
        this.finish({ code, reason, willReconnect: false });
        return;
      }
      if (opened) {
        this.retry({ code, reason });
        return;
      }
      this.setStatus("reconnecting");
      void this.refusal(origin).then((refused) => {
        if (this.stopped) return;
        if (refused?.ban && this.options.onBan === "readOnly") {
          this.emit("close", { code: 4403, reason: "banned", willReconnect: true, delayMs: 0, refused: true });
          this.readOnlyAfterBan(refused.ban);
        } else if (refused) {
          this.finish({ code: refused.code, reason: refused.reason, willReconnect: false, refused: true });
        } else this.retry({ code, reason });
      });
    }
    retry(info) {
      const delayMs = this.backoff.next();
      this.setStatus("reconnecting");
      this.emit("close", { ...info, willReconnect: true, delayMs });
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (!this.stopped) this.open();
      }, delayMs);
    }
    finish(info) {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      clearTimeout(this.pingTimer);
      this.socket = null;
      this.emit("close", info);
      this.setStatus("closed");
    }
    /** Why a handshake on `origin` failed, when it is for good; else null. */
    async refusal(origin) {
      const fetch = this.options.fetch ?? defaultFetch();
      if (!fetch) return null;
      const headers = {};
      if (this.options.cookie) headers.Cookie = this.options.cookie;
      const get = (path) => fetch(new URL(path, origin).toString(), { headers, credentials: "include" });
      try {
        const [stream, session] = await Promise.all([
          get(`/api/streams/${this.options.streamId}`),
          get("/api/session")
        ]);
        if (stream.status === 404) return { code: 4404, reason: "not_found" };
        if (session.status === 401) return { code: 4401, reason: "unauthorized" };
        if (!stream.ok) return null;
        const info = await stream.json();
        if (info.status === "ended") return { code: 4404, reason: "stream ended" };
        if (info.ban && !this.readOnly) {
          const ban = { until: info.ban.until ?? null, reason: info.ban.reason ?? null };
          return { code: 4403, reason: "banned", ban };
        }
      } catch {
      }
      return null;
    }
    /** Restarts the ping watchdog (with `ws`, which shows pings). */
    watch(socket) {
      const limit = this.options.pingTimeoutMs ?? 5e4;
      if (!socket.on || limit <= 0) return;
      clearTimeout(this.pingTimer);
      this.pingTimer = setTimeout(() => {
        if (socket.terminate) socket.terminate();
        else socket.close(4e3, "no ping");
      }, limit);
    }
    transmit(line) {
      const frame = { message: line.text, client_id: line.clientId };
      if (line.replyTo !== void 0) frame.reply_to = line.replyTo;
      this.command(frame);
    }
    command(frame) {
      const socket = this.socket;
      if (!socket || socket.readyState !== OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    }
    setStatus(next) {
      if (next === this.state) return;
      const previous = this.state;
      this.state = next;
      this.emit("status", { status: next, previous });
    }
  };
  function detach(socket) {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => {
    };
  }
  function newClientId() {
    const bytes = new Uint8Array(12);
    globalThis.crypto.getRandomValues(bytes);
    return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function connect(options) {
    return new ChatClient(options).start();
  }

  // src/session.ts
  async function login(options) {
    const fetch = options.fetch ?? defaultFetch();
    if (!fetch) throw new Error("@stampede/client: no fetch here; pass one");
    const res = await fetch(new URL("/api/session", options.url).toString(), {
      method: "POST",
      headers: { "content-type": "application/json", origin: originOf(options.url) },
      body: JSON.stringify({ username: options.username, password: options.password })
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(`login failed: ${res.status} ${body.error ?? ""}`.trim());
    }
    const cookies = res.headers.getSetCookie?.() ?? [res.headers.get("set-cookie") ?? ""];
    for (const header of cookies) {
      const pair = header.split(";")[0]?.trim() ?? "";
      if (pair.startsWith("sessionid=")) return pair;
    }
    throw new Error("login succeeded but no sessionid cookie came back");
  }

  // src/text.ts
  var ENTITIES = [
    [/&lt;/g, "<"],
    [/&gt;/g, ">"],
    [/&quot;/g, '"'],
    [/&#39;/g, "'"],
    [/&amp;/g, "&"]
  ];
  function decodeText(message) {
    return ENTITIES.reduce((text, [pattern, char]) => text.replace(pattern, char), message);
  }
  return __toCommonJS(index_exports);
})();
