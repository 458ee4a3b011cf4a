// Watch page chat. The connection is @stampede/client's (clients/js, loaded
// before this as /static/stampede-client.js): it speaks the seed-001
// protocol, sends each line with a "client_id" (so a resend after a
// reconnect is stored once), reconnects and resumes. This renders what the
// room sends. All text is inserted with textContent only.
// Every line has one "⋯" menu (line_menu.js): Reply for everyone, and for
// moderators (data-can-moderate="true", mod_panel.js) Pin, Delete, User
// card; the server checks every command again, so the flag only decides
// what is shown. Lines that mention the viewer are highlighted; "@" in the
// input offers the names seen in the room.
(function () {
  "use strict";
  // The page's words in its language, from the server's catalogs
  // (locales/*.ftl, the `js-` messages); `%name%` is filled in here.
  const words = (() => {
    const block = document.getElementById("words");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (_) { return {}; }
  })();
  function w(key, args) {
    let text = Object.prototype.hasOwnProperty.call(words, key) ? words[key] : key;
    for (const name in args || {}) text = text.split("%" + name + "%").join(String(args[name]));
    return text;
  }
  // Dates and times in the page's language, in the viewer's time zone.
  const pageLang = document.documentElement.lang || undefined;
  const body = document.body;
  const streamId = body.dataset.streamId;
  const log = document.getElementById("log");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  const statusEl = document.getElementById("status");
  const notice = document.getElementById("notice");
  const floats = document.getElementById("floats");
  const pinned = document.getElementById("pinned");
  const pinnedWho = document.getElementById("pinned-who");
  const pinnedText = document.getElementById("pinned-text");
  const slowMode = document.getElementById("slow-mode");
  const me = body.dataset.username;
  const viewersEl = document.getElementById("viewers");
  const canModerate = body.dataset.canModerate === "true";
  // The overlay (/embed/streams/{id}/chat): read-only, lines fade away.
  const embed = body.dataset.embed === "true";
  const fadeSecs = Number(body.dataset.fade) || 0;
  const stampButtons = Array.from(document.querySelectorAll(".stamp"));
  const stampImages = new Map(stampButtons.map((b) => [String(b.dataset.stampId), b.dataset.stampImage]));
  const MAX_FLOATS = 120; // on-screen cap, so a flood never thrashes the page
  const MAX_PER_TICK = 30;
  const MAX_LINES = 500;
  const MAX_SEEN = 2000;
  // The chat connection (@stampede/client, /static/stampede-client.js).
  let client = null;
  // Ids already shown. Ids can arrive slightly out of order (a moderation
  // notice and a chat line commit independently), so this is a set, not a
  // high-water mark; ids at or below seenFloor were pruned and count as seen.
  const seen = new Set();
  let seenFloor = 0;
  let pinnedId = null;
  let pinnedUser = null;
  let stickyNotice = false;
  // Lines typed here whose echo has not arrived, oldest first, by client id:
  // shown greyed in the log, sent again with the same id after a reconnect
  // (the server stores a line once per id), given back to the input with
  // the reason when refused.
  const unsent = new Map();
  const MAX_UNSENT = 20;
  // The stream is over: chat is read-only history, nothing reconnects.
  let streamEnded = false;
  // Banned or timed out: the chat is read on a read-only socket, input and
  // stamps are off; a timeout's end (or ban.lifted) turns them back on.
  let readOnly = false;
  let liftTimer = null;
  const badge = document.getElementById("stream-badge");

  // Messages arrive HTML-escaped (safe for clients that insert HTML); turn the
  // entities back into characters for display. DOMParser runs no scripts.
  const parser = new DOMParser();
  function decode(text) {
    return parser.parseFromString(text, "text/html").documentElement.textContent;
  }

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = "status " + cls;
  }

  // A sticky notice (banned) stays up and is not replaced by later ones.
  function showNotice(text, sticky) {
    if (stickyNotice && !sticky) return;
    // Read out politely; a ban, the end of the stream or a logout at once.
    notice.setAttribute("role", sticky ? "alert" : "status");
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(showNotice.timer);
    clearInterval(showNotice.ticker);
    if (sticky) stickyNotice = true;
    else showNotice.timer = setTimeout(() => { notice.hidden = true; }, 4000);
  }

  // A notice with a live countdown: words(seconds left), hidden at zero.
  function showCountdown(words, ms) {
    if (stickyNotice) return;
    const end = Date.now() + ms;
    const tick = () => {
      const left = Math.ceil((end - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(showNotice.ticker);
        notice.hidden = true;
        return;
      }
      notice.textContent = words(left);
    };
    showNotice(words(Math.ceil(ms / 1000)), false);
    clearTimeout(showNotice.timer);
    showNotice.ticker = setInterval(tick, 250);
  }

  function send(obj) {
    return client !== null && client.sendFrame(obj);
  }

  function connected() {
    return client !== null && client.status === "open";
  }

  function markUnsent(entry) {
    entry.state.textContent = connected() ? w("sending") : w("waiting");
  }

  // Shows a line typed here until its echo (or refusal) arrives.
  function addUnsent(clientId, text, replyTo) {
    const li = document.createElement("li");
    li.className = "line message unsent";
    li.dataset.clientId = clientId;
    const time = document.createElement("time");
    time.textContent = timeOf(null);
    const who = document.createElement("span");
    who.className = "who me";
    who.textContent = me;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    const state = document.createElement("span");
    state.className = "unsent-state";
    li.append(time, who, body, state);
    const entry = { text: text, replyTo: replyTo, li: li, state: state };
    unsent.set(clientId, entry);
    markUnsent(entry);
    log.appendChild(li);
    scrollToLatest(); // one's own line: jump to it, as other chats do
    return entry;
  }

  // The server answered for a line typed here (its echo, or its refusal).
  function settle(clientId) {
    const entry = unsent.get(clientId);
    if (!entry) return null;
    unsent.delete(clientId);
    entry.li.remove();
    return entry;
  }

  function firstSight(id) {
    if (id <= seenFloor || seen.has(id)) return false;
    seen.add(id);
    if (seen.size > MAX_SEEN) {
      for (const old of seen) { // insertion order: oldest first
        seen.delete(old);
        if (old > seenFloor) seenFloor = old;
        if (seen.size <= MAX_SEEN / 2) break;
      }
    }
    return true;
  }

  function timeOf(ts) {
    const d = ts ? new Date(ts) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString(pageLang, { hour: "2-digit", minute: "2-digit" });
  }

  // One small menu button per line (line_menu.js opens the menu). Out of
  // the tab order but one: the log is one tab stop and the arrow keys move
  // between lines.
  function lineMenuButton(username) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "line-menu-button";
    b.textContent = "⋯";
    b.tabIndex = -1;
    b.setAttribute("aria-haspopup", "menu");
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-label", w("line-actions", { user: username }));
    return b;
  }

  // A moderation line in the page's language, from its key; `message` (the
  // operator's wording) when the key is unknown here.
  function noticeText(notice) {
    const a = notice.args || {};
    const key = "notice-" + String(notice.key).replace(/_/g, "-");
    const text = w(key, {
      user: a.user || "",
      seconds: a.seconds === undefined ? "" : a.seconds,
      duration: a.duration_secs ? duration(a.duration_secs) : "",
    });
    return text === key ? null : text;
  }

  // 600 → "10 minutes" / "10 分", in the page's language.
  function duration(secs) {
    for (const [size, unit] of [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]]) {
      if (secs % size !== 0) continue;
      try {
        return new Intl.NumberFormat(pageLang, { style: "unit", unit: unit, unitDisplay: "long" }).format(secs / size);
      } catch (_) {
        return secs / size + " " + unit + (secs === size ? "" : "s");
      }
    }
    return String(secs);
  }

  // ---- Replies ----------------------------------------------------------
  // A bar above the input saying what it is for (a reply, an edit), with
  // a ✕ that cancels; returns the bar and its text.
  function inputBar(className, cancelLabel, cancel) {
    const bar = document.createElement("div");
    bar.className = className;
    bar.hidden = true;
    const text = document.createElement("span");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "reply-cancel";
    close.textContent = "✕";
    close.setAttribute("aria-label", cancelLabel);
    close.addEventListener("click", cancel);
    bar.append(text, close);
    form.parentNode.insertBefore(bar, form);
    return { bar: bar, text: text };
  }

  // The line being answered ({id, username, text}) while the viewer writes.
  let replyTo = null;
  const { bar: replying, text: replyingText } = inputBar("replying", w("reply-cancel"), () => setReply(null));

  function setReply(target) {
    if (target && editing) setEditing(null);
    replyTo = target;
    replying.hidden = !target;
    replyingText.textContent = target ? w("replying-to", { user: target.username, text: target.text }) : "";
    if (target) input.focus();
  }

  // The quote above a reply: the answered line's author and its first
  // words; a click shows that line, if it is still in the log.
  function quoteOf(r) {
    const q = document.createElement("button");
    q.type = "button";
    q.className = "quote";
    q.dataset.replyId = r.id;
    q.dataset.replyUser = r.username;
    q.tabIndex = -1; // the log is one tab stop
    q.textContent = "↪ " + r.username + ": " + (r.deleted ? w("reply-deleted") : decode(r.message));
    return q;
  }

  // An element with a class and text (never HTML), for the scripts that
  // build the chat's panels.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Scrolls to line `id` and flashes it; false if it is not in the log.
  function showLine(id) {
    const li = lineById(String(id));
    if (!li) return false;
    li.scrollIntoView({ block: "center" });
    li.classList.remove("flash");
    void li.offsetWidth; // restart the animation
    li.classList.add("flash");
    return true;
  }

  log.addEventListener("click", (e) => {
    const q = e.target.closest(".quote");
    if (q && !showLine(q.dataset.replyId)) showNotice(w("reply-not-shown"));
  });

  // A deleted line is no longer quoted by the replies to it.
  function unquote(id) {
    for (const q of log.querySelectorAll(".quote")) {
      if (q.dataset.replyId === String(id)) q.textContent = "↪ " + q.dataset.replyUser + ": " + w("reply-deleted");
    }
  }

  // ---- Edits --------------------------------------------------------------
  // The viewer edits their own lines for data-edit-window-secs after sending
  // (the server checks again): Edit in the line menu, or ArrowUp in the
  // empty input for the latest one. The text goes back into the input with
  // a bar saying so; Enter sends chat.edit, Escape cancels.
  const editWindowMs = (Number(body.dataset.editWindowSecs) || 0) * 1000;
  let editing = null; // {id, before} while the input holds an edit
  let pendingEdit = null; // {id, text} sent, its chat.edited not seen yet
  const editingBar = inputBar("replying editing", w("edit-cancel"), () => setEditing(null)).bar;
  editingBar.firstChild.textContent = w("editing");

  function editable(li) {
    const sent = Date.parse(li.dataset.sentAt || "");
    return Boolean(li.dataset.id) && li.dataset.username === me && !isNaN(sent) &&
      Date.now() - sent < editWindowMs && !readOnly && !streamEnded && !input.disabled;
  }

  function setEditing(li) {
    if (li) {
      setReply(null);
      const t = li.querySelector(".text");
      editing = { id: Number(li.dataset.id), before: input.value };
      input.value = t ? t.textContent : "";
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    } else if (editing) {
      input.value = editing.before;
      editing = null;
    }
    editingBar.hidden = !editing;
  }

  // The viewer's latest line still in its window, for ArrowUp.
  function lastEditable() {
    for (let li = log.lastElementChild; li; li = li.previousElementSibling) {
      if (li.dataset.username === me && li.dataset.id) return editable(li) ? li : null;
    }
    return null;
  }

  // "(edited)" after a line's text, with when as its tooltip.
  function markEdited(li, editedAt) {
    let mark = li.querySelector(".edited");
    if (!mark) {
      mark = document.createElement("span");
      mark.className = "edited";
      mark.textContent = w("edited");
      const text = li.querySelector(".text");
      if (text) text.after(mark);
      else li.appendChild(mark);
    }
    const d = new Date(editedAt);
    mark.title = isNaN(d) ? "" : w("edited-at", { time: d.toLocaleString(pageLang) });
  }

  // chat.edited: the line, its mention highlight, the quotes of it and the
  // pinned copy show the new text.
  function applyEdit(ev) {
    const text = decode(ev.message);
    const li = lineById(ev.id);
    if (li) {
      const t = li.querySelector(".text");
      if (t) {
        t.textContent = "";
        appendLinked(t, text);
      }
      const mentions = Array.isArray(ev.mentions) ? ev.mentions : [];
      li.classList.toggle("mentions-me", mentions.some((m) => String(m).toLowerCase() === meLower));
      markEdited(li, ev.edited_at);
    }
    for (const q of log.querySelectorAll(".quote")) {
      if (q.dataset.replyId === String(ev.id)) {
        q.textContent = "↪ " + q.dataset.replyUser + ": " + (text.length > 100 ? text.slice(0, 100) + "…" : text);
      }
    }
    if (pinnedId === ev.id) {
      pinnedText.textContent = text;
      pinnedText.title = text;
    }
    if (pendingEdit && pendingEdit.id === ev.id) pendingEdit = null;
  }

  // ---- Blocks -------------------------------------------------------------
  // Lines of users this viewer blocked are not shown (GET /api/blocks;
  // the server also never notifies of their mentions and replies).
  const blocked = new Set();
  function hideBlocked() {
    for (const li of log.querySelectorAll("li.message")) li.hidden = blocked.has(li.dataset.username);
  }
  if (!embed && me) {
    fetch("/api/blocks", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { blocks: [] }))
      .then((j) => {
        for (const b of j.blocks || []) blocked.add(b.username);
        hideBlocked();
      })
      .catch(() => {});
  }
  function setBlocked(username, on) {
    return fetch("/api/users/" + encodeURIComponent(username) + "/block", {
      method: on ? "POST" : "DELETE",
      credentials: "same-origin",
    }).then((r) => {
      if (!r.ok) throw new Error(String(r.status));
      if (on) blocked.add(username);
      else blocked.delete(username);
      hideBlocked();
    });
  }
  // After blocking: say so, with a way back.
  function blockedNotice(username) {
    showNotice(w("blocked-user", { user: username }));
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link undo-block";
    undo.textContent = w("unblock");
    undo.addEventListener("click", () => {
      setBlocked(username, false).then(() => showNotice(w("unblocked-user", { user: username })), () => {});
    });
    notice.append(" ", undo);
    clearTimeout(showNotice.timer);
    showNotice.timer = setTimeout(() => { notice.hidden = true; }, 10000);
  }

  // ---- Mentions -----------------------------------------------------------
  const meLower = (me || "").toLowerCase();
  // Names seen in the room, most recent last, for "@" completion.
  const names = new Map();
  function rememberName(name) {
    if (!name || name === me) return;
    names.delete(name);
    names.set(name, true);
    if (names.size > 500) names.delete(names.keys().next().value);
  }

  const BADGES = { streamer: w("badge-streamer"), moderator: w("badge-moderator"), admin: w("badge-admin") };

  function render(ev) {
    if (ev.id && !firstSight(ev.id)) return; // already shown (replayed after a reconnect)
    const kind = ev.message_type || "message";
    // Joins and leaves (every reload makes a pair) are noise for viewers;
    // moderators, who watch who comes and goes, still see them.
    if ((kind === "join" || kind === "leave") && !canModerate) return;
    const li = document.createElement("li");
    li.className = "line " + kind;
    if (ev.id) li.dataset.id = ev.id;
    if (ev.username) li.dataset.username = ev.username;
    if (ev.timestamp) li.dataset.sentAt = ev.timestamp;
    const time = document.createElement("time");
    time.textContent = timeOf(ev.timestamp);
    li.appendChild(time);
    if (kind === "message" && ev.username) {
      const who = document.createElement("span");
      who.className = "who" + (ev.username === me ? " me" : "");
      who.textContent = ev.username;
      li.appendChild(who);
      if (BADGES[ev.badge]) {
        const badge = document.createElement("span");
        badge.className = "badge badge-" + ev.badge;
        badge.textContent = BADGES[ev.badge];
        li.insertBefore(badge, who);
      }
    }
    if (ev.reply_to && typeof ev.reply_to === "object") li.appendChild(quoteOf(ev.reply_to));
    const text = document.createElement("span");
    text.className = "text";
    appendLinked(text, (ev.notice && noticeText(ev.notice)) || decode(ev.message));
    li.appendChild(text);
    if (ev.edited_at) markEdited(li, ev.edited_at);
    if (Array.isArray(ev.mentions) && ev.mentions.some((m) => String(m).toLowerCase() === meLower)) {
      li.classList.add("mentions-me");
    }
    if (kind === "message" && ev.username) rememberName(ev.username);
    if (kind === "message" && blocked.has(ev.username)) li.hidden = true;
    if (!embed && kind === "message" && ev.id && ev.username) li.appendChild(lineMenuButton(ev.username));
    if (fadeSecs > 0) {
      li.classList.add("fading");
      li.style.animationDelay = fadeSecs + "s";
      li.addEventListener("animationend", () => li.remove());
    }
    const atBottom = nearBottom();
    log.appendChild(li);
    while (log.children.length > MAX_LINES) log.removeChild(log.firstChild);
    if (atBottom || embed) log.scrollTop = log.scrollHeight;
    else if (!li.hidden) noteBelow();
    if (!li.hidden) announce(ev, kind);
  }

  // Auto-moderation. The author sees their held line marked "pending
  // review" (nobody else in the room sees it); the moderators' queue
  // (mod_panel.js) hears of it through tell(). Approval broadcasts the line
  // with the same id, which unmarks it; a denial marks it declined.
  function held(ev) {
    const msg = ev.message || {};
    if (msg.username !== me) return tell("held", ev);
    if (typeof msg.client_id === "string") settle(msg.client_id);
    render(msg);
    const li = msg.id && lineById(msg.id);
    if (!li || li.classList.contains("held")) return;
    li.classList.add("held");
    const mark = document.createElement("span");
    mark.className = "held-mark";
    mark.textContent = w("held-pending");
    li.appendChild(mark);
  }

  function approved(li) {
    li.classList.remove("held");
    const mark = li.querySelector(".held-mark");
    if (mark) mark.remove();
  }

  function denied(ev) {
    tell("denied", ev);
    const li = lineById(ev.id);
    if (!li || !li.classList.contains("held")) return;
    li.classList.replace("held", "denied");
    const mark = li.querySelector(".held-mark");
    if (mark) mark.textContent = ev.reason === "expired" ? w("held-expired") : w("held-denied");
  }

  // Listeners of other scripts (mod_panel.js) by event name.
  const listeners = new Map();
  function tell(name, ev) {
    for (const fn of listeners.get(name) || []) fn(ev);
  }
  function on(name, fn) {
    if (!listeners.has(name)) listeners.set(name, []);
    listeners.get(name).push(fn);
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  // Links in chat lines: http(s) URLs in the (decoded) text become <a>
  // elements, built with DOM calls; the rest stays text nodes. Only http and
  // https (javascript:, data: and the rest stay text). A URL ends at a space,
  // a non-ASCII character or a character URLs do not have; trailing
  // punctuation (and a ")" or "]" that closes nothing in the URL) is left
  // out. The overlay shows the same text, without links (nothing to click).
  const URL_RE = /\bhttps?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/gi;
  const TRAILING = ".,;:!?'*";

  function trimUrl(raw) {
    let url = raw;
    for (;;) {
      const last = url.slice(-1);
      const count = (c) => url.split(c).length - 1;
      if (TRAILING.includes(last) ||
          (last === ")" && count("(") < count(")")) ||
          (last === "]" && count("[") < count("]"))) {
        url = url.slice(0, -1);
      } else {
        return url;
      }
    }
  }

  // The http(s) URL `candidate` as an href, or null.
  function safeHref(candidate) {
    let url;
    try { url = new URL(candidate); } catch (_) { return null; }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
    return url.href;
  }

  function appendLinked(parent, text) {
    let from = 0;
    for (const m of embed ? [] : text.matchAll(URL_RE)) {
      const shown = trimUrl(m[0]);
      const href = safeHref(shown);
      if (!href) continue;
      if (m.index > from) parent.appendChild(document.createTextNode(text.slice(from, m.index)));
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener nofollow ugc";
      a.textContent = shown;
      parent.appendChild(a);
      from = m.index + shown.length;
    }
    if (from < text.length) parent.appendChild(document.createTextNode(text.slice(from)));
  }

  // "More messages below": lines that arrived while the viewer reads further
  // up (the log stays where it is); a click, or scrolling down, clears it.
  const moreBelow = document.getElementById("more-below");
  let unseenBelow = 0;

  function noteBelow() {
    if (embed || !moreBelow) return;
    unseenBelow++;
    moreBelow.textContent = w("more-below-count", { count: unseenBelow });
    moreBelow.hidden = false;
  }

  function hideMoreBelow() {
    unseenBelow = 0;
    if (moreBelow) moreBelow.hidden = true;
  }

  function scrollToLatest() {
    log.scrollTop = log.scrollHeight;
    hideMoreBelow();
  }

  if (moreBelow) {
    moreBelow.addEventListener("click", () => {
      scrollToLatest();
      log.focus({ preventScroll: true }); // the button is gone; keep focus in the chat
    });
  }
  log.addEventListener("scroll", () => {
    if (unseenBelow && nearBottom()) hideMoreBelow();
  }, { passive: true });

  // New lines for screen readers. The log itself is not live (a busy chat
  // would be read out line by line); this polite region says the one new
  // line, or "N new messages", at most once every 5 s. One's own lines,
  // history and joins/leaves are not announced.
  const announcer = document.getElementById("announcer");
  const ANNOUNCE_EVERY_MS = 5000;
  const ANNOUNCE_MAX_CHARS = 200;
  let announceCount = 0;
  let announceLast = "";
  let announcedAt = -Infinity;
  let announceTimer = null;

  function announce(ev, kind) {
    if (!announcer || embed || streamEnded || ev.history === true) return;
    if (kind !== "message" && kind !== "system" && kind !== "moderation") return;
    if (kind === "message" && ev.username === me) return;
    announceCount++;
    announceLast = (kind === "message" && ev.username ? ev.username + ": " : "") + decode(ev.message);
    if (announceTimer === null) {
      announceTimer = setTimeout(flushAnnouncement, Math.max(0, announcedAt + ANNOUNCE_EVERY_MS - Date.now()));
    }
  }

  function flushAnnouncement() {
    announceTimer = null;
    if (!announceCount) return;
    let text = announceCount === 1 ? announceLast : w("new-messages", { count: announceCount });
    if (text.length > ANNOUNCE_MAX_CHARS) text = text.slice(0, ANNOUNCE_MAX_CHARS) + "…";
    announceCount = 0;
    announcedAt = Date.now();
    // The same words again would not be read again: vary them invisibly.
    announcer.textContent = text === announcer.textContent ? text + "\u00a0" : text;
  }

  // Showing or hiding the banner resizes the log; stay pinned to the bottom.
  function keepBottom(change) {
    const atBottom = nearBottom();
    change();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function showPin(msg) {
    if (!msg || !msg.id) return;
    keepBottom(() => {
      pinnedId = msg.id;
      pinnedUser = msg.username || "";
      pinnedWho.textContent = msg.username || "";
      pinnedWho.hidden = !msg.username;
      const text = decode(msg.message || "");
      pinnedText.textContent = text;
      pinnedText.title = text;
      pinned.hidden = false;
    });
  }

  function hidePin() {
    if (pinnedId === null) return;
    keepBottom(() => {
      pinnedId = null;
      pinnedUser = null;
      pinned.hidden = true;
      pinnedWho.textContent = "";
      pinnedText.textContent = "";
      pinnedText.title = "";
    });
  }

  function lineById(id) {
    const key = String(id);
    for (const li of log.children) if (li.dataset.id === key) return li;
    return null;
  }

  // chat.clear: one user's message lines, or all of them; notices stay.
  function clearLines(username) {
    const all = username === undefined || username === null;
    for (const li of Array.from(log.querySelectorAll("li.message"))) {
      if (all || li.dataset.username === username) li.remove();
    }
    if (all || pinnedUser === username) hidePin();
  }

  function setViewers(n) {
    if (!viewersEl) return;
    viewersEl.classList.remove("stale");
    viewersEl.textContent = n === 1 ? w("viewers-one") : w("viewers-many", { count: n });
    viewersEl.hidden = false;
  }

  let slowModeSecs = 0;
  function setSlowMode(seconds) {
    const n = Number(seconds) || 0;
    slowModeSecs = n;
    slowMode.textContent = n > 0 ? w("slow-mode-label", { seconds: n }) : "";
    slowMode.hidden = !(n > 0);
  }

  function disableChat() {
    setChatEnabled(false);
  }

  function setChatEnabled(on) {
    input.disabled = !on;
    for (const b of form.querySelectorAll("button")) b.disabled = !on;
    for (const b of stampButtons) b.disabled = !on;
  }

  // Banned or timed out: keep reading, stop sending; a timeout lifts
  // itself. `ban` is {until, reason}.
  function enterReadOnly(ban) {
    readOnly = true;
    disableChat();
    stickyNotice = false;
    showNotice(bannedText(ban.until, ban.reason), true);
    clearTimeout(liftTimer);
    const end = ban.until ? new Date(ban.until).getTime() : NaN;
    if (!isNaN(end)) liftTimer = setTimeout(liftBan, Math.max(0, end - Date.now()) + 250);
  }

  // The ban ended or was lifted: a normal socket again (resuming where the
  // read-only one was, so nothing is missed).
  function liftBan() {
    clearTimeout(liftTimer);
    if (!readOnly || streamEnded || embed) return;
    readOnly = false;
    stickyNotice = false;
    notice.hidden = true;
    setChatEnabled(true);
    if (client) client.setReadOnly(false);
    else connect();
  }

  // One stamp floating up over the chat for 3 s (CSS animation, transform and
  // opacity only, so it never triggers layout).
  function float(imageUrl, delayMs) {
    if (!imageUrl || floats.childElementCount >= MAX_FLOATS) return;
    const img = document.createElement("img");
    img.className = "float";
    img.src = imageUrl;
    img.alt = "";
    img.style.left = (5 + Math.random() * 80).toFixed(1) + "%";
    img.style.setProperty("--drift", ((Math.random() - 0.5) * 60).toFixed(0) + "px");
    img.style.animationDelay = (delayMs || 0) + "ms";
    img.addEventListener("animationend", () => img.remove());
    floats.appendChild(img);
  }

  function burst(ev) {
    const entries = Object.entries(ev.counts || {});
    const total = entries.reduce((n, [, c]) => n + c, 0);
    if (!total) return;
    const shown = Math.min(total, MAX_PER_TICK);
    const windowMs = ev.window_ms || 150;
    for (const [id, count] of entries) {
      const k = Math.max(1, Math.round((count / total) * shown));
      for (let i = 0; i < k; i++) float(stampImages.get(String(id)), Math.random() * windowMs);
    }
  }

  // Refusals that say how long to wait, counted down live.
  const waitText = {
    rate_limited: (s) => w("wait-rate-limited", { seconds: s }),
    slow_mode: (s) => w("wait-slow-mode", { seconds: s }),
  };

  const errorText = {
    rate_limited: (e) => w("wait-rate-limited", { seconds: Math.ceil((e.retry_after_ms || 1000) / 1000) }),
    too_long: () => w("error-too-long"),
    empty: () => w("error-empty"),
    unknown_stamp: () => w("error-unknown-stamp"),
    slow_mode: (e) => w("wait-slow-mode", { seconds: Math.ceil((e.retry_after_ms || 1000) / 1000) }),
    blocked_term: () => w("error-blocked-term"),
    forbidden: () => w("error-forbidden"),
    not_found: () => w("error-not-found"),
    edit_window_passed: () => w("error-edit-window-passed"),
    bad_request: () => w("error-bad-request"),
    unavailable: () => w("error-unavailable"),
    read_only: () => w("error-read-only"),
  };

  function bannedText(until, reason) {
    const t = until ? timeOf(until) : "";
    const text = t ? w("timed-out-until", { time: t }) : w("banned");
    const why = reason ? decode(reason) : "";
    return why ? text + " " + w("reason", { reason: why }) : text;
  }

  // Shows the stream as over: its history stays readable, nothing is sent
  // and nothing reconnects.
  function showEnded() {
    streamEnded = true;
    setStatus(w("status-ended"), "bad");
    disableChat();
    if (badge) {
      badge.textContent = w("ended-badge");
      badge.className = "live ended";
    }
    if (viewersEl) viewersEl.hidden = true;
    for (const entry of unsent.values()) entry.state.textContent = w("not-sent-ended");
    showNotice(w("stream-ended"), true);
  }

  // An ended stream's page: the last lines from the history API.
  function loadEndedHistory() {
    showEnded();
    fetch("/api/streams/" + encodeURIComponent(streamId) + "/messages?limit=200", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { messages: [] }))
      .then((page) => {
        const lines = (page.messages || []).slice().reverse(); // oldest first
        for (const m of lines) render(m);
      })
      .catch(() => {});
  }

  // What the room sends, in order (the connection itself is the shared
  // client's, @stampede/client: reconnects, resumes, resends, bans).
  function handle(ev) {
    if (!ev || typeof ev !== "object") return;
    if (ev.type === "recovered") return; // a failed resume: history follows
    if (ev.type === "presence") {
      setViewers(ev.viewers);
      return;
    }
    if (ev.type === "stream.ended") {
      showEnded();
      return;
    }
    if (ev.type === "ban.lifted") {
      liftBan();
      return;
    }
    if (ev.type === "reaction") {
      float(stampImages.get(String(ev.stamp_id)) || ev.stamp_image_url);
    } else if (ev.type === "reaction.burst") {
      burst(ev);
    } else if (ev.type === "chat.pin") {
      showPin(ev.message);
    } else if (ev.type === "chat.unpin") {
      if (pinnedId === ev.id) hidePin();
    } else if (ev.type === "chat.delete") {
      const li = lineById(ev.id);
      if (li) li.remove();
      unquote(ev.id);
      if (pinnedId === ev.id) hidePin();
    } else if (ev.type === "chat.edited") {
      applyEdit(ev);
    } else if (ev.type === "chat.clear") {
      clearLines(ev.username);
    } else if (ev.type === "chat.settings") {
      setSlowMode(ev.slow_mode_seconds);
    } else if (ev.type === "error") {
      // A refused line goes back to the input (unless something else is
      // being typed there), so nothing typed is lost.
      const refused = typeof ev.client_id === "string" ? settle(ev.client_id) : null;
      if (refused && !input.value) input.value = refused.text;
      // An edit has no client id: a refusal right after one gives its
      // text back (the line keeps its old text).
      if (!refused && pendingEdit && typeof ev.client_id !== "string") {
        const lost = pendingEdit;
        pendingEdit = null;
        const li = lineById(lost.id);
        if (!input.value && li && editable(li)) {
          setEditing(li);
          input.value = lost.text;
        } else if (!input.value) input.value = lost.text;
      }
      if (ev.code === "banned") {
        showNotice(bannedText(ev.until, ev.reason), true);
      } else if (waitText[ev.code] && ev.retry_after_ms) {
        showCountdown(waitText[ev.code], ev.retry_after_ms);
      } else {
        const f = errorText[ev.code];
        showNotice(f ? f(ev) : (ev.message || ev.code));
      }
    } else if (ev.type === "chat.held") {
      held(ev);
    } else if (ev.type === "chat.denied") {
      denied(ev);
    } else if (typeof ev.message === "string") {
      if (typeof ev.client_id === "string" && ev.username === me) settle(ev.client_id);
      const waiting = ev.id && lineById(ev.id);
      if (waiting && waiting.classList.contains("held")) approved(waiting);
      render(ev);
      if (ev.id) tell("line", ev);
    }
  }

  // History replayed after a fresh join or a failed resume is complete: a
  // line shown here in its range that it did not include was deleted or
  // cleared while we were away; no pin after it means unpinned meanwhile.
  function historyReplayed(replay) {
    if (!replay.pinned) hidePin();
    if (!replay.ids.length) return;
    const ids = new Set(replay.ids);
    const min = Math.min.apply(null, replay.ids);
    for (const li of Array.from(log.children)) {
      const id = Number(li.dataset.id);
      if (id >= min && !ids.has(id)) li.remove();
    }
  }

  function connect() {
    setStatus(w("status-connecting"), "connecting");
    client = window.StampedeClient.connect({
      url: location.origin,
      streamId: Number(streamId),
      readOnly: readOnly,
      // The overlay reads on a read-only socket already; a viewer banned
      // meanwhile goes on reading, from where the socket was.
      onBan: embed ? "stop" : "readOnly",
    });
    client.on("open", () => {
      tell("open", {});
      setStatus(readOnly ? w("status-read-only") : w("status-live"), readOnly ? "readonly" : "ok");
      // The client sends again, with the same ids, the lines whose echo
      // never came: one the server already stored is echoed, not stored twice.
      for (const entry of unsent.values()) markUnsent(entry);
    });
    client.on("frame", handle);
    client.on("history", historyReplayed);
    client.on("banned", enterReadOnly);
    client.on("close", (info) => {
      if (info.willReconnect) {
        if (info.code === 4403) return; // read-only from here: see "banned"
        setStatus(w("status-reconnecting"), "connecting");
        if (viewersEl) viewersEl.classList.add("stale");
        for (const entry of unsent.values()) markUnsent(entry);
        return;
      }
      if (info.code === 4401) {
        // Logged out or deactivated: the cookie is dead, retrying cannot help.
        setStatus(w("status-logged-out"), "bad");
        disableChat();
        showNotice(w("logged-out"), true);
        return;
      }
      // The stream ended (1000 after stream.ended, or a refused handshake:
      // 4404), or a close nothing can follow.
      if (!streamEnded) showEnded();
    });
  }

  // ---- "@" completion: the names seen in the room -------------------------
  const suggestions = document.createElement("ul");
  suggestions.id = "mention-suggestions";
  suggestions.className = "suggestions";
  suggestions.setAttribute("role", "listbox");
  suggestions.setAttribute("aria-label", w("mention-suggestions"));
  suggestions.hidden = true;
  form.appendChild(suggestions);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", suggestions.id);
  input.setAttribute("aria-expanded", "false");
  let picked = -1;

  // The "@name" being typed at the caret: where the name starts, and the
  // name so far (lowercased).
  function typedMention() {
    const upto = input.value.slice(0, input.selectionStart || 0);
    const m = /(^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]*)$/.exec(upto);
    return m ? { start: upto.length - m[2].length, prefix: m[2].toLowerCase() } : null;
  }

  function closeSuggestions() {
    suggestions.hidden = true;
    suggestions.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    picked = -1;
  }

  function showPicked() {
    const options = suggestions.children;
    for (let i = 0; i < options.length; i++) options[i].setAttribute("aria-selected", String(i === picked));
    if (picked >= 0) input.setAttribute("aria-activedescendant", options[picked].id);
  }

  function complete(name) {
    const t = typedMention();
    if (!t) return;
    const caret = input.selectionStart || 0;
    input.value = input.value.slice(0, t.start) + name + " " + input.value.slice(caret);
    const at = t.start + name.length + 1;
    input.setSelectionRange(at, at);
    closeSuggestions();
    input.focus();
  }

  input.addEventListener("input", () => {
    const t = typedMention();
    if (!t) return closeSuggestions();
    const found = Array.from(names.keys())
      .reverse()
      .filter((n) => n.toLowerCase().startsWith(t.prefix))
      .slice(0, 6);
    if (!found.length) return closeSuggestions();
    suggestions.textContent = "";
    found.forEach((name, i) => {
      const option = document.createElement("li");
      option.id = "mention-option-" + i;
      option.setAttribute("role", "option");
      option.textContent = "@" + name;
      option.dataset.name = name;
      // mousedown, not click: the input keeps its focus and caret.
      option.addEventListener("mousedown", (e) => {
        e.preventDefault();
        complete(name);
      });
      suggestions.appendChild(option);
    });
    picked = 0;
    suggestions.hidden = false;
    input.setAttribute("aria-expanded", "true");
    showPicked();
  });

  input.addEventListener("keydown", (e) => {
    if (suggestions.hidden) {
      if (e.key === "Escape" && editing) setEditing(null);
      else if (e.key === "Escape" && replyTo) setReply(null);
      else if (e.key === "ArrowUp" && !input.value && !editing) {
        const li = lastEditable();
        if (li) {
          e.preventDefault();
          setEditing(li);
        }
      }
      return;
    }
    const n = suggestions.children.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      picked = (picked + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      showPicked();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      complete(suggestions.children[Math.max(0, picked)].dataset.name);
    } else if (e.key === "Escape") {
      e.preventDefault();
      closeSuggestions();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 0));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (editing) {
      if (!connected()) {
        showNotice(w("not-connected-edit"));
        return;
      }
      pendingEdit = { id: editing.id, text: text };
      send({ type: "chat.edit", id: editing.id, message: text });
      editing = null;
      editingBar.hidden = true;
      input.value = "";
      closeSuggestions();
      return;
    }
    if (unsent.size >= MAX_UNSENT) {
      showNotice(w("too-many-unsent"));
      return;
    }
    if (!client) return;
    input.value = "";
    closeSuggestions();
    const replyId = replyTo ? replyTo.id : null;
    // Sent now if connected, else once connected; sent again with the same
    // id after each reconnect until the server answers for it.
    const clientId = client.send(text, replyId ? { replyTo: replyId } : {});
    addUnsent(clientId, text, replyId);
    setReply(null);
  });

  for (const b of stampButtons) {
    b.addEventListener("click", () => {
      if (!connected()) {
        showNotice(w("not-connected-stamp"));
        return;
      }
      send({
        type: "reaction",
        stamp_id: Number(b.dataset.stampId),
        stamp_name: b.dataset.stampName,
        stamp_image_url: b.dataset.stampImage,
      });
    });
  }

  if (!embed) {
    // What the line menu (line_menu.js) and the moderator tools
    // (mod_panel.js), loaded after this, use.
    window.StampedeChat = {
      streamId: streamId,
      me: me,
      isAdmin: body.dataset.role === "admin",
      send: send,
      decode: decode,
      showLine: showLine,
      el: el,
      slowMode: () => slowModeSecs,
      w: w,
      lang: pageLang,
      on: on,
      // For the replay player (replay.js): the live chat's own rendering.
      render: render,
      burst: burst,
      reset: resetChat,
      pin: showPin,
      unpin: hidePin,
      scrollToLatest: scrollToLatest,
      pendingMenuItems: [
        () =>
          window.StampedeLineMenu.addItem(
            w("reply"),
            (li) => Boolean(li.dataset.id) && !readOnly && !streamEnded && !input.disabled,
            (li) => {
              const t = li.querySelector(".text");
              const text = t ? t.textContent : "";
              setReply({
                id: Number(li.dataset.id),
                username: li.dataset.username,
                text: text.length > 60 ? text.slice(0, 59) + "…" : text,
              });
            },
            10
          ),
        () =>
          window.StampedeLineMenu.addItem(w("edit"), editable, setEditing, 15),
        () =>
          window.StampedeLineMenu.addItem(
            w("block"),
            (li) => Boolean(li.dataset.username) && li.dataset.username !== me,
            (li) => {
              const who = li.dataset.username;
              setBlocked(who, true).then(() => blockedNotice(who), () => showNotice(w("error-forbidden")));
            },
            90
          ),
      ],
    };
  }

  if (canModerate) {
    const unpin = document.createElement("button");
    unpin.type = "button";
    unpin.id = "unpin";
    unpin.className = "mod-unpin";
    unpin.textContent = w("unpin");
    unpin.addEventListener("click", () => send({ type: "chat.unpin" }));
    pinned.appendChild(unpin);
  }

  // The replay player of an ended stream (replay.js) starts the chat over
  // at each seek.
  function resetChat() {
    log.textContent = "";
    seen.clear();
    seenFloor = 0;
    floats.textContent = "";
    hidePin();
    hideMoreBelow();
  }

  if (embed) {
    // Reads only, says nothing: an overlay has no one to read a notice.
    readOnly = true;
    disableChat();
    connect();
  } else if (body.dataset.streamStatus === "ended") {
    if (body.dataset.replayMs) showEnded(); // replay.js loads the chat
    else loadEndedHistory();
  }
  else {
    if (body.dataset.banned === "true") {
      enterReadOnly({ until: body.dataset.banUntil || null, reason: body.dataset.banReason || null });
    }
    connect();
  }
})();
