// Tells the server the reader's time zone (the `tz` cookie), for the times
// it writes into pages (the analytics charts). A page with server-written
// times names the zone it used in data-zone; drawn for another zone (the
// very first visit, before the cookie existed), it is drawn again, once.
(() => {
  'use strict';
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (_) {
    return;
  }
  if (!zone || zone.length > 64) return;
  const value = encodeURIComponent(zone);
  if (!document.cookie.split('; ').includes('tz=' + value)) {
    document.cookie = 'tz=' + value + '; path=/; max-age=31536000; samesite=lax';
  }
  const drawnFor = document.body && document.body.dataset.zone;
  if (!drawnFor || drawnFor === zone) return;
  // At most once per zone and tab: a browser that refuses the cookie would
  // otherwise reload for ever.
  try {
    if (sessionStorage.getItem('tz-reloaded') === zone) return;
    sessionStorage.setItem('tz-reloaded', zone);
  } catch (_) {
    return;
  }
  location.reload();
})();
