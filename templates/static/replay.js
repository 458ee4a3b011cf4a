// Chat replay on an ended stream's page: plays the chat back on stream time
// (milliseconds since the stream started) through the live chat's own
// rendering (watch.js's window.StampedeChat): lines at the moment they
// were sent, stamps floating over the second they were sent in, the pin of
// each moment. A VOD player beside it drives it with window.stampede.replay:
//   seek(ms) → Promise (resolves once that moment is shown), play(), pause(),
//   position() → ms, duration (ms), playing (boolean).
// The chat comes from GET /api/streams/{id}/replay in 30-second spans, kept
// (the last MAX_SPANS used), the next one fetched ahead while playing, so
// seeking back and forth renders from memory at once.
(function () {
  "use strict";
  const body = document.body;
  const chat = window.StampedeChat;
  const duration = Number(body.dataset.replayMs);
  if (!chat || !Number.isFinite(duration) || duration < 0) return;
  const w = chat.w;
  const streamId = body.dataset.streamId;
  const SPAN_MS = 30000;
  const MAX_SPANS = 40;
  const PAGE_LINES = 1000;
  // A span busier than this (over 333 lines a second) is played in part.
  const MAX_PAGES_PER_SPAN = 10;
  // Lines shown above the moment a seek lands on, looked for at most
  // CONTEXT_SPANS spans back.
  const CONTEXT_LINES = 200;
  const CONTEXT_SPANS = 10;
  const TICK_MS = 100;
  const RETRY_MS = 2000;
  // A stamp floats for 3 s: one due longer ago than that is not floated
  // (a tab that was in the background catches up on lines only).
  const FLOAT_LATE_MS = 3000;
  const toggle = document.getElementById("replay-toggle");
  const slider = document.getElementById("replay-slider");
  const timeEl = document.getElementById("replay-time");

  // Span index → {promise, data (once loaded)}, least recently used first.
  const spans = new Map();
  let position = duration;
  let playing = false;
  let clockAt = 0; // performance.now() when position was last set
  let timer = null;
  // Items before `cursor` (ms) were shown; null while a seek is loading.
  let cursor = null;
  // Bumped on every seek: a slower earlier seek's answer is dropped.
  let generation = 0;
  let pinnedId = null;
  let dragging = false;

  function spanOf(ms) {
    return Math.max(0, Math.floor(Math.min(ms, duration) / SPAN_MS));
  }

  function url(query, toMs) {
    return "/api/streams/" + encodeURIComponent(streamId) + "/replay?" + query +
      "&to_ms=" + toMs + "&limit=" + PAGE_LINES;
  }

  async function fetchSpan(i) {
    const to = (i + 1) * SPAN_MS;
    const data = { pinned: null, items: [] };
    let query = "from_ms=" + i * SPAN_MS;
    for (let page = 0; page < MAX_PAGES_PER_SPAN; page++) {
      const r = await fetch(url(query, to), { credentials: "same-origin" });
      if (!r.ok) throw new Error("replay answered " + r.status);
      const answer = await r.json();
      if (page === 0) data.pinned = answer.pinned || null;
      for (const item of answer.items || []) data.items.push(item);
      if (!answer.next) break;
      query = "from_ms=" + answer.next.from_ms + "&after=" + answer.next.after;
    }
    return data;
  }

  // The span's chat, from memory when it was fetched before. A failed
  // fetch is tried again RETRY_MS later, not on every tick.
  function span(i) {
    let entry = spans.get(i);
    if (entry && entry.failedAt !== null && performance.now() - entry.failedAt > RETRY_MS) entry = null;
    if (entry) {
      spans.delete(i); // most recently used goes last
    } else {
      const fresh = { data: null, failedAt: null, promise: null };
      fresh.promise = fetchSpan(i).then(
        (data) => (fresh.data = data),
        (err) => {
          fresh.failedAt = performance.now();
          throw err;
        },
      );
      fresh.promise.catch(() => {}); // retried, not reported as unhandled
      entry = fresh;
    }
    spans.set(i, entry);
    while (spans.size > MAX_SPANS) spans.delete(spans.keys().next().value);
    return entry;
  }

  function now() {
    return playing ? Math.min(duration, position + (performance.now() - clockAt)) : position;
  }

  function clock(ms) {
    position = ms;
    clockAt = performance.now();
  }

  // m:ss, or h:mm:ss from an hour on.
  function format(ms) {
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function showPosition(ms) {
    if (!dragging) slider.value = String(Math.round(ms));
    timeEl.textContent = format(ms) + " / " + format(duration);
  }

  function showPlaying() {
    const label = playing ? w("replay-pause") : w("replay-play");
    toggle.textContent = playing ? "❚❚" : "▶";
    toggle.setAttribute("aria-label", label);
    toggle.title = label;
    toggle.setAttribute("aria-pressed", String(playing));
  }

  // Shows one item that is `late` ms past its moment.
  function show(item, late) {
    switch (item.type) {
      case "chat.message":
        chat.render(item);
        break;
      case "reactions":
        if (late < FLOAT_LATE_MS) chat.burst({ counts: item.counts, window_ms: 1000 });
        break;
      case "chat.pin":
        chat.pin(item.message);
        pinnedId = item.message ? item.message.id : null;
        break;
      case "chat.unpin":
        if (pinnedId === item.id) {
          chat.unpin();
          pinnedId = null;
        }
        break;
    }
  }

  // Seeks: the chat as it stood at `ms` (the last lines before it, its
  // pin), then plays on from there if playing.
  async function seek(ms) {
    ms = Math.min(duration, Math.max(0, Number(ms) || 0));
    const mine = ++generation;
    clock(ms);
    cursor = null;
    showPosition(ms);
    const last = spanOf(ms);
    const parts = [];
    let lines = 0;
    for (let i = last; i >= 0 && last - i < CONTEXT_SPANS; i--) {
      let data;
      try {
        data = await span(i).promise;
      } catch (_) {
        if (mine === generation) setTimeout(() => mine === generation && seek(now()), RETRY_MS);
        return;
      }
      if (mine !== generation) return;
      parts.unshift(data);
      lines += data.items.filter((it) => it.type === "chat.message" && it.t_ms < ms).length;
      if (lines >= CONTEXT_LINES) break;
    }
    // At the very end everything counts, lines sent as the stream ended too.
    const before = ms >= duration ? Infinity : ms;
    let pinned = parts.length ? parts[0].pinned : null;
    const shown = [];
    for (const data of parts) {
      for (const item of data.items) {
        if (item.t_ms >= before) break;
        if (item.type === "chat.message") shown.push(item);
        else if (item.type === "chat.pin") pinned = item.message;
        else if (item.type === "chat.unpin" && pinned && pinned.id === item.id) pinned = null;
      }
    }
    chat.reset();
    pinnedId = null;
    for (const item of shown.slice(-CONTEXT_LINES)) chat.render(item);
    if (pinned) {
      chat.pin(pinned);
      pinnedId = pinned.id;
    }
    chat.scrollToLatest();
    cursor = ms;
    tick();
  }

  // Shows what is due between the cursor and now, from the spans already
  // in memory (fetching the first missing one: the rest waits for it).
  function tick() {
    const t = now();
    showPosition(t);
    if (cursor !== null) {
      const until = t >= duration ? Infinity : t;
      let reached = t;
      for (let i = spanOf(cursor); i <= spanOf(t); i++) {
        const entry = span(i);
        if (!entry.data) {
          reached = Math.max(cursor, i * SPAN_MS);
          break;
        }
        for (const item of entry.data.items) {
          if (item.t_ms >= cursor && item.t_ms < until) show(item, t - item.t_ms);
        }
      }
      cursor = reached;
      // Fetch the next span ahead, halfway through this one.
      if (playing && t % SPAN_MS > SPAN_MS / 2 && (spanOf(t) + 1) * SPAN_MS < duration) {
        span(spanOf(t) + 1);
      }
    }
    if (playing && t >= duration) pause();
  }

  function play() {
    if (playing) return;
    if (position >= duration) seek(0);
    clock(position);
    playing = true;
    showPlaying();
    timer = setInterval(tick, TICK_MS);
  }

  function pause() {
    if (!playing) return;
    clock(now());
    playing = false;
    clearInterval(timer);
    timer = null;
    showPlaying();
    showPosition(position);
  }

  slider.addEventListener("pointerdown", () => (dragging = true));
  slider.addEventListener("pointerup", () => (dragging = false));
  slider.addEventListener("input", () => seek(Number(slider.value)));
  toggle.addEventListener("click", () => (playing ? pause() : play()));

  window.stampede = window.stampede || {};
  window.stampede.replay = {
    seek,
    play,
    pause,
    position: now,
    get duration() {
      return duration;
    },
    get playing() {
      return playing;
    },
  };

  showPlaying();
  // Opens at the end: the chat as it read when the stream ended.
  seek(duration);
})();
