// A live stream's analytics page: reloads its figures and charts every
// data-refresh-secs seconds, without reloading the page (the picker keeps
// what is being chosen), and stops for good once the stream has ended.
// Loaded only while the stream is live; without JavaScript the page
// refreshes itself through a <noscript> meta refresh instead.
(() => {
  'use strict';
  const body = document.body;
  const status = document.getElementById('refresh-status');
  const secs = Number(body.dataset.refreshSecs);
  if (!status || !(secs > 0) || body.dataset.streamStatus !== 'live') return;
  // The parts of the page the server redraws; the picker is left alone.
  const PARTS = ['stream-head', 'stream-charts', 'stream-stamps'];
  let timer = null;
  let busy = false;

  // The page's words (ajs- messages of the catalogs), %name% filled in.
  let WORDS = {};
  try {
    WORDS = JSON.parse(document.getElementById('words').textContent);
  } catch (_) {
    WORDS = {};
  }
  const w = (id, args) =>
    (WORDS[id] || id).replace(/%(\w+)%/g, (m, k) => (args && k in args ? String(args[k]) : m));
  const lang = document.documentElement.lang || undefined;
  const clock = (d) => d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const say = (text, state) => {
    status.textContent = text;
    body.dataset.refresh = state;
  };
  const stop = (text, state) => {
    clearTimeout(timer);
    timer = null;
    document.removeEventListener('visibilitychange', onVisibility);
    say(text, state);
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(refresh, secs * 1000);
  };

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(location.href, {
        headers: { Accept: 'text/html' },
        cache: 'no-store',
        credentials: 'same-origin',
      });
      // A redirect means the session ended (to the login form).
      if (res.redirected) {
        stop(w('session-ended'), 'stopped');
        return;
      }
      // Gone or forbidden now: asking again will not help.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        stop(w('gone', { status: res.status }), 'stopped');
        return;
      }
      if (!res.ok) {
        say(w('failing', { reason: 'HTTP ' + res.status, seconds: secs }), 'failing');
        schedule();
        return;
      }
      const next = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const id of PARTS) {
        const fresh = next.getElementById(id);
        const old = document.getElementById(id);
        if (fresh && old) old.replaceWith(document.adoptNode(fresh));
      }
      body.dataset.refreshes = String(Number(body.dataset.refreshes || 0) + 1);
      const now = next.body.dataset.streamStatus;
      body.dataset.streamStatus = now || 'unknown';
      if (now !== 'live') {
        stop(w('ended'), 'stopped');
        return;
      }
      say(w('refreshed', { seconds: secs, time: clock(new Date()) }), 'on');
      schedule();
    } catch (err) {
      say(w('failing', { reason: err.message, seconds: secs }), 'failing');
      schedule();
    } finally {
      busy = false;
    }
  }

  // A hidden tab costs the server nothing; it catches up when shown.
  function onVisibility() {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer && !busy) {
      refresh();
    }
  }

  document.addEventListener('visibilitychange', onVisibility);
  say(w('live', { seconds: secs }), 'on');
  schedule();
})();
