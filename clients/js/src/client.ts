// The chat connection: one socket at a time, reconnected with backoff and
// resumed from the last offset/epoch seen, lines de-duplicated by id, and
// typed lines resent with their client_id until the server answers for
// them. The behaviour follows the watch page (templates/static/watch.js)
// and docs/protocol.md §1.

import { Backoff, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import {
  EVENT_OF_FRAME,
  type ClientEvents,
  type CloseInfo,
  type EventName,
  type ServerFrame,
  type Status,
} from "./events.js";
import type { ChatClientFrame } from "./frames.js";
import { SeenIds } from "./seen.js";
import {
  OPEN,
  chatSocketUrl,
  defaultFetch,
  defaultSocket,
  inBrowser,
  originOf,
  type FetchLike,
  type SocketConstructor,
  type SocketLike,
} from "./transport.js";

export interface ConnectOptions {
  /**
   * The tenant's origin (`https://acme.example.com`), or several nodes'
   * origins tried in turn on each reconnect, or a function giving the one
   * to use for each attempt (counted from 0).
   */
  url: string | readonly string[] | ((attempt: number) => string);
  streamId: number;
  /** A WebSocket constructor; default the global one. In Node 20: `ws`. */
  WebSocket?: SocketConstructor;
  /** For telling a refused handshake's cause; default the global fetch. */
  fetch?: FetchLike;
  /** Node: the `sessionid=…` cookie (see `login`). Browsers send their own. */
  cookie?: string;
  /**
   * Node: the Origin header, which the server checks; default the origin of
   * the URL connected to. Browsers send their own.
   */
  origin?: string;
  /** Open a read-only socket (banned users may still read; nothing can be sent). */
  readOnly?: boolean;
  /**
   * What a ban does: `"stop"` (the default) closes for good with 4403;
   * `"readOnly"` goes on reading on a read-only socket from the same
   * position (no line missed), after emitting `banned` with the ban's end
   * and reason. `setReadOnly(false)` (on `ban.lifted`, or when the ban's
   * `until` passes) turns sending back on. A ban met at the handshake
   * (banned while away) is treated the same way.
   */
  onBan?: "stop" | "readOnly";
  reconnect?: BackoffOptions;
  /**
   * With `ws` (which sees the server's pings, every 20 s by default): a
   * socket that received neither a ping nor a frame for this long is
   * dropped and reconnected. Default 50 s; 0 turns it off. Browsers answer
   * pings unseen, so there it never applies.
   */
  pingTimeoutMs?: number;
}

/** A line sent here whose echo or refusal has not arrived yet. */
export interface PendingLine {
  clientId: string;
  text: string;
  replyTo?: number;
}

/** A ban in force on the viewer: its end (absent: permanent) and reason. */
export interface BanInfo {
  until: string | null;
  reason: string | null;
}

export interface BanOptions {
  /** A timeout of this many seconds (1 s … 14 days); absent: permanent. */
  durationSecs?: number;
  reason?: string;
  scope?: "stream" | "tenant";
}

/** Close codes after which reconnecting cannot help (docs/protocol.md §1). */
const FINAL_CODES = new Set([1000, 4401, 4403]);

/** Frames about this connection that may come amid a history replay. */
const NOT_ROOM_EVENTS = new Set<string>(["recovered", "presence", "stream.ended", "ban.lifted", "error"]);

export class ChatClient extends Emitter {
  private socket: SocketLike | null = null;
  private state: Status = "connecting";
  private stopped = false;
  private ended = false;
  private attempt = 0;
  private offset: number | null = null;
  private epoch: string | null = null;
  private readOnly: boolean;
  /** The last `banned` refusal's details, for the 4403 close after it. */
  private lastBan: BanInfo | null = null;
  /** Ids of the history being replayed (fresh join or failed resume). */
  private history: number[] | null = null;
  private readonly unsent = new Map<string, PendingLine>();
  private readonly seen = new SeenIds();
  private readonly backoff: Backoff;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ConnectOptions) {
    super();
    this.backoff = new Backoff(options.reconnect);
    this.readOnly = options.readOnly ?? false;
  }

  /** Whether the socket is (or will be, on reconnect) read-only. */
  get isReadOnly(): boolean {
    return this.readOnly;
  }

  /** Where the connection stands. */
  get status(): Status {
    return this.state;
  }

  /** The last logged event seen (what a reconnect resumes after). */
  get position(): { offset: number | null; epoch: string | null } {
    return { offset: this.offset, epoch: this.epoch };
  }

  /** Lines sent here and not yet answered, oldest first. */
  get pending(): PendingLine[] {
    return [...this.unsent.values()];
  }

  /**
   * Sends a chat line; returns its `client_id`. Until its echo (a `message`
   * with that `client_id`) or a refusal (an `error` with it) arrives, the
   * line is sent again with the same id each time a socket opens, and the
   * server stores it once.
   */
  send(text: string, options: { replyTo?: number } = {}): string {
    if (this.stopped) throw new Error("@stampede/client: the connection is closed");
    const clientId = newClientId();
    const line: PendingLine = { clientId, text };
    if (options.replyTo !== undefined) line.replyTo = options.replyTo;
    this.unsent.set(clientId, line);
    this.transmit(line);
    return clientId;
  }

  /** Edits one of your own lines. False when not connected. */
  edit(id: number, text: string): boolean {
    return this.command({ type: "chat.edit", id, message: text });
  }

  /** Sends a stamp. False when not connected. */
  react(stampId: number): boolean {
    return this.command({ type: "reaction", stamp_id: stampId });
  }

  // Moderation (moderators of the stream; others get an `error` forbidden).
  // Each returns false when not connected: unlike lines, commands are not
  // resent, as a repeated one may not mean the same (a second delete).

  pin(id: number): boolean {
    return this.command({ type: "chat.pin", id });
  }

  unpin(): boolean {
    return this.command({ type: "chat.unpin" });
  }

  delete(id: number): boolean {
    return this.command({ type: "chat.delete", id });
  }

  /** Removes one user's lines, or every line. */
  clear(username?: string): boolean {
    return this.command(username === undefined ? { type: "chat.clear" } : { type: "chat.clear", username });
  }

  ban(username: string, options: BanOptions = {}): boolean {
    const frame: ChatClientFrame = { type: "ban", username };
    if (options.durationSecs !== undefined) frame.duration_secs = options.durationSecs;
    if (options.reason !== undefined) frame.reason = options.reason;
    if (options.scope !== undefined) frame.scope = options.scope;
    return this.command(frame);
  }

  unban(username: string, options: { scope?: "stream" | "tenant" } = {}): boolean {
    const frame: ChatClientFrame = { type: "unban", username };
    if (options.scope !== undefined) frame.scope = options.scope;
    return this.command(frame);
  }

  /** Seconds between a viewer's lines (3–120), or 0 for off. */
  slowMode(seconds: number): boolean {
    return this.command({ type: "slow_mode", seconds });
  }

  /** Shows a line auto-moderation held. */
  approve(id: number): boolean {
    return this.command({ type: "chat.approve", id });
  }

  /** Keeps a held line hidden. */
  deny(id: number): boolean {
    return this.command({ type: "chat.deny", id });
  }

  /**
   * Any client frame (docs/protocol.md §1.2), for what has no method of its
   * own. False when not connected; not resent.
   */
  sendFrame(frame: ChatClientFrame): boolean {
    return this.command(frame);
  }

  /**
   * Switches between a read-only socket and a normal one: the current
   * socket is replaced by one of the other kind, resuming where it was.
   */
  setReadOnly(on: boolean): void {
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
      socket.close(1000);
    }
    this.open();
  }

  /** Closes the connection for good. */
  close(): void {
    if (this.stopped) return;
    const socket = this.socket;
    this.finish({ code: 1000, reason: "closed by the client", willReconnect: false });
    if (socket) {
      detach(socket);
      socket.close(1000);
    }
  }

  /** Starts the first connection (`connect` calls it). */
  start(): this {
    this.open();
    return this;
  }

  private open(): void {
    const origin = this.nextUrl();
    const resumed = this.offset !== null && this.epoch !== null;
    const query: Record<string, string> = {};
    if (resumed) {
      query.since_offset = String(this.offset);
      query.epoch = String(this.epoch);
    }
    if (this.readOnly) query.read_only = "1";
    const url = chatSocketUrl(origin, this.options.streamId, query);
    const Socket = this.options.WebSocket ?? defaultSocket();
    const headers = this.headers(origin);
    let socket: SocketLike;
    try {
      socket = headers ? new Socket(url, [], { headers }) : new Socket(url);
    } catch (error) {
      // A malformed URL or the like: retrying will not fix it.
      this.finish({ code: 1006, reason: String(error), willReconnect: false });
      throw error;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.backoff.reset();
      // A fresh join replays history; a resumed one only what was missed.
      this.history = resumed ? null : [];
      this.setStatus("open");
      this.emit("open", { url: origin, resumed });
      this.watch(socket);
      // Lines whose echo never came go again with the same ids: one the
      // server already stored is echoed back, not stored twice.
      for (const line of this.unsent.values()) this.transmit(line);
    };
    socket.onmessage = (event) => {
      this.watch(socket);
      if (typeof event.data === "string") this.receive(event.data);
    };
    socket.onerror = () => {
      // Always followed by a close, which decides what happens next.
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

  private headers(origin: string): Record<string, string> | undefined {
    if (inBrowser() && this.options.cookie === undefined && this.options.origin === undefined) {
      return undefined;
    }
    const headers: Record<string, string> = { Origin: this.options.origin ?? originOf(origin) };
    if (this.options.cookie) headers.Cookie = this.options.cookie;
    return headers;
  }

  private nextUrl(): string {
    const { url } = this.options;
    const attempt = this.attempt++;
    if (typeof url === "function") return url(attempt);
    if (typeof url === "string") return url;
    if (url.length === 0) throw new Error("@stampede/client: url is an empty list");
    return url[attempt % url.length] as string;
  }

  private receive(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object" || typeof frame.type !== "string") return;
    if (typeof frame.offset === "number" && typeof frame.epoch === "string") {
      this.offset = frame.offset;
      this.epoch = frame.epoch;
    }
    // Before the frame that ends a history replay is handled, so that a
    // line arriving live is not taken for one deleted in the gap.
    this.trackHistory(frame);
    this.emit("frame", frame);
    switch (frame.type) {
      case "recovered":
        if (!frame.recovered) {
          // The log no longer covers the gap: history follows, as on a
          // fresh join, and lines already delivered are skipped by id.
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
        // A refused line is answered for: it is not sent again.
        if (typeof frame.client_id === "string") this.unsent.delete(frame.client_id);
        if (frame.code === "banned" && "until" in frame) {
          this.lastBan = { until: frame.until ?? null, reason: frame.reason ?? null };
        }
        break;
      case "stream.ended":
        this.ended = true;
        break;
    }
    const name = (EVENT_OF_FRAME[frame.type] ?? frame.type) as EventName;
    this.emit(name, frame as ClientEvents[typeof name]);
  }

  /**
   * Collects the ids of a history replay; at the first frame after it,
   * emits `history` (lines stored from the oldest of them on that are not
   * among them were deleted while this client was away).
   */
  private trackHistory(frame: ServerFrame): void {
    const ids = this.history;
    if (!ids) return;
    if ("history" in frame && frame.history === true) {
      if ("id" in frame && typeof frame.id === "number") ids.push(frame.id);
      return;
    }
    // Frames about the connection, not the room, come in between.
    if (NOT_ROOM_EVENTS.has(frame.type)) return;
    this.history = null;
    this.emit("history", { ids, pinned: frame.type === "chat.pin" });
  }

  /** Banned: go on reading on a read-only socket from here. */
  private readOnlyAfterBan(ban: BanInfo): void {
    this.readOnly = true;
    this.lastBan = ban;
    this.emit("banned", ban);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, 0);
  }

  private closed(code: number, reason: string, opened: boolean, origin: string): void {
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
    // A refused handshake looks like a plain 1006: ask the server whether
    // it is one that no retry can fix.
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

  private retry(info: { code: number; reason: string }): void {
    const delayMs = this.backoff.next();
    this.setStatus("reconnecting");
    this.emit("close", { ...info, willReconnect: true, delayMs });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, delayMs);
  }

  private finish(info: CloseInfo): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    this.socket = null;
    this.emit("close", info);
    this.setStatus("closed");
  }

  /** Why a handshake on `origin` failed, when it is for good; else null. */
  private async refusal(
    origin: string,
  ): Promise<{ code: number; reason: string; ban?: BanInfo } | null> {
    const fetch = this.options.fetch ?? defaultFetch();
    if (!fetch) return null;
    const headers: Record<string, string> = {};
    if (this.options.cookie) headers.Cookie = this.options.cookie;
    const get = (path: string) =>
      fetch(new URL(path, origin).toString(), { headers, credentials: "include" });
    try {
      const [stream, session] = await Promise.all([
        get(`/api/streams/${this.options.streamId}`),
        get("/api/session"),
      ]);
      if (stream.status === 404) return { code: 4404, reason: "not_found" };
      if (session.status === 401) return { code: 4401, reason: "unauthorized" };
      if (!stream.ok) return null;
      const info = (await stream.json()) as { status?: string; ban?: Partial<BanInfo> | null };
      if (info.status === "ended") return { code: 4404, reason: "stream ended" };
      if (info.ban && !this.readOnly) {
        const ban = { until: info.ban.until ?? null, reason: info.ban.reason ?? null };
        return { code: 4403, reason: "banned", ban };
      }
    } catch {
      // Unreachable (a node down): an outage, which a retry may outlast.
    }
    return null;
  }

  /** Restarts the ping watchdog (with `ws`, which shows pings). */
  private watch(socket: SocketLike): void {
    const limit = this.options.pingTimeoutMs ?? 50_000;
    if (!socket.on || limit <= 0) return;
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      // Half-open: no FIN ever came. Drop it; its close reconnects.
      if (socket.terminate) socket.terminate();
      else socket.close(4000, "no ping");
    }, limit);
  }

  private transmit(line: PendingLine): void {
    const frame: ChatClientFrame = { message: line.text, client_id: line.clientId };
    if (line.replyTo !== undefined) frame.reply_to = line.replyTo;
    this.command(frame);
  }

  private command(frame: ChatClientFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  private setStatus(next: Status): void {
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    this.emit("status", { status: next, previous });
  }
}

function detach(socket: SocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // Keep a no-op error handler: `ws` throws on an unhandled error event.
  socket.onerror = () => {};
}

/** A random id for a line (`A–Z a–z 0–9 _ -`, as the server requires). */
export function newClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Opens the chat of `streamId` and keeps it open until `close()`. */
export function connect(options: ConnectOptions): ChatClient {
  return new ChatClient(options).start();
}
