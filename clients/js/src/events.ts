// The events a client emits, by name, with what each handler receives.
// Frame payloads are the generated frame types (src/frames.ts), so they
// follow the server's schema.

import type { ChatSocketServerFrame } from "./frames.js";

/** Every frame the chat socket sends, with its `offset`/`epoch` envelope. */
export type ServerFrame = ChatSocketServerFrame;

/** The frame (or frames: `error` has two shapes) whose `type` is `T`. */
export type FrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

/** A chat line (`chat.message`), live or from history. */
export type ChatLine = FrameOf<"chat.message">;

/** Where the connection stands. */
export type Status = "connecting" | "open" | "reconnecting" | "closed";

/** A socket closed (or a handshake was refused). */
export interface CloseInfo {
  /** The WebSocket close code; for a refused handshake, see `refused`. */
  code: number;
  reason: string;
  /** Whether the client will connect again (after `delayMs`). */
  willReconnect: boolean;
  delayMs?: number;
  /**
   * The handshake was refused before the socket opened, and the client
   * found out why: `code` is then 4404 (the stream is unknown or ended),
   * 4403 (banned) or 4401 (not logged in), and the client stops.
   */
  refused?: boolean;
}

export interface ClientEvents {
  /** Chat lines, each id at most once (history after a reconnect included). */
  message: ChatLine;
  reaction: FrameOf<"reaction">;
  "reaction.burst": FrameOf<"reaction.burst">;
  "chat.pin": FrameOf<"chat.pin">;
  "chat.unpin": FrameOf<"chat.unpin">;
  "chat.delete": FrameOf<"chat.delete">;
  "chat.edited": FrameOf<"chat.edited">;
  "chat.clear": FrameOf<"chat.clear">;
  "chat.settings": FrameOf<"chat.settings">;
  "chat.held": FrameOf<"chat.held">;
  "chat.denied": FrameOf<"chat.denied">;
  presence: FrameOf<"presence">;
  /** Refusals; one refusing a line sent here carries its `client_id`. */
  error: FrameOf<"error">;
  /** The answer to a resume: `recovered: false` means history follows. */
  recovered: FrameOf<"recovered">;
  "stream.ended": FrameOf<"stream.ended">;
  "ban.lifted": FrameOf<"ban.lifted">;
  /** Every frame as received, before de-duplication. */
  frame: ServerFrame;
  /**
   * The history replayed after a fresh join or a failed resume is over:
   * `ids` are its lines (delivered or not as `message`: ids already seen
   * are skipped there). A line shown here with an id at least the smallest
   * of them that is not among them was deleted while away. `pinned`: the
   * room's pin came right after (no pin means it was unpinned meanwhile).
   */
  history: { ids: number[]; pinned: boolean };
  /** Banned, with `onBan: "readOnly"`: reading goes on read-only. */
  banned: { until: string | null; reason: string | null };
  /** A socket opened; `resumed` when it asked to resume from an offset. */
  open: { url: string; resumed: boolean };
  close: CloseInfo;
  status: { status: Status; previous: Status };
}

export type EventName = keyof ClientEvents;
export type Handler<K extends EventName> = (event: ClientEvents[K]) => void;

/** Frame types delivered under an event of another name. */
export const EVENT_OF_FRAME: Partial<Record<ServerFrame["type"], EventName>> = {
  "chat.message": "message",
};
