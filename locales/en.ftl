# Stampede's words in English. Ids starting with `js-` go to watch.js and
# mod_panel.js; `%name%` in them is filled in by the script.

## Header
nav-log-in = Log in
nav-log-out = Log out
nav-analytics = Analytics
nav-language = Language

## Home
home-live-now = Live now
home-nothing-live = Nothing is live right now.
home-coming-up = Coming up
home-recently-ended = Recently ended
home-by = by { $owner }
badge-live = LIVE
badge-upcoming = UPCOMING
badge-ended = ENDED

## Login
login-title = Log in
login-username = Username
login-password = Password
login-submit = Log in

## Watch page and chat panel
watch-with = with { $owner }
watch-video = Video
chat-title = Live chat
chat-label = Chat
chat-connecting = connecting…
chat-pop-out = Pop out
chat-pop-out-title = Open the chat in its own window
chat-pinned = Pinned message
chat-messages = Chat messages
chat-more-below = More messages below
chat-placeholder = Say something…
chat-message = Message
chat-send = Send
chat-reactions = Reactions

## watch.js
js-status-connecting = connecting…
js-status-live = live
js-status-reconnecting = reconnecting…
js-status-read-only = read-only
js-status-ended = ended
js-status-logged-out = logged out
js-sending = sending…
js-waiting = not sent yet: waiting for the connection
js-not-sent-ended = not sent: the stream has ended
js-more-below = More messages below
js-more-below-count = More messages below (%count%)
js-new-messages = %count% new messages
js-slow-mode-label = Slow mode: %seconds% s
js-viewers-one = 1 viewer
js-viewers-many = %count% viewers
js-wait-rate-limited = You are sending too fast. Try again in %seconds% s.
js-wait-slow-mode = Slow mode is on. Try again in %seconds% s.
js-error-too-long = That message is too long.
js-error-empty = Type something first.
js-error-unknown-stamp = That stamp is not available.
js-error-blocked-term = Your message contains a blocked term.
js-error-forbidden = You can't do that.
js-error-not-found = That message no longer exists.
js-error-bad-request = That message contains characters that cannot be sent.
js-error-unavailable = Chat is unavailable right now. Your message was not sent; try again shortly.
js-error-read-only = You can only read this chat.
js-timed-out-until = You are timed out until %time%.
js-banned = You are banned from this chat.
js-reason = Reason: %reason%
js-stream-ended = This stream has ended.
js-logged-out = You have been logged out. Log in again to chat.
js-too-many-unsent = Too many messages are waiting to be sent. Wait for the connection.
js-not-connected-stamp = Not connected: reactions are not sent until chat reconnects.
js-badge-streamer = Streamer
js-badge-moderator = Mod
js-badge-admin = Admin
js-ended-badge = ENDED
js-unpin = Unpin
js-moderate-line = Moderate this message from %user%

## mod_panel.js
js-mod-pin = Pin
js-mod-delete = Delete
js-mod-user-card = User card…
js-mod-close = Close
js-mod-loading = Loading…
js-mod-working = Working…
js-mod-user = User
js-mod-panel = Moderation
js-mod-panel-title = Moderation tools
js-mod-joined-today = joined today
js-mod-joined-days = joined %count% days ago
js-mod-joined-months = joined %count% months ago
js-mod-deactivated = deactivated
js-mod-timed-out-until = Timed out until %time%
js-mod-banned = Banned
js-mod-whole-tenant = (whole tenant)
js-mod-reason-placeholder = Reason (optional)
js-mod-reason = Reason
js-mod-timeout-length = Timeout length
js-mod-1-minute = 1 minute
js-mod-10-minutes = 10 minutes
js-mod-1-hour = 1 hour
js-mod-24-hours = 24 hours
js-mod-7-days = 7 days
js-mod-time-out = Time out
js-mod-ban = Ban
js-mod-unban = Unban
js-mod-unban-user = Unban %user%
js-mod-confirm-ban = Ban %user% from this chat?
js-mod-timed-out = Timed out.
js-mod-banned-done = Banned.
js-mod-ban-lifted = Ban lifted.
js-mod-cannot-ban = You cannot time out or ban this user.
js-mod-recent = Recent messages here
js-mod-deleted = (deleted)
js-mod-nothing-yet = Nothing yet.
js-mod-chat-rules = Chat rules
js-mod-slow-mode = Slow mode
js-mod-slow-off = Slow mode: off
js-mod-slow-seconds = Slow mode: %seconds% s
js-mod-apply = Apply
js-mod-slow-on-done = Slow mode is on.
js-mod-slow-off-done = Slow mode is off.
js-mod-clear = Clear chat
js-mod-confirm-clear = Remove every message of this chat?
js-mod-cleared = Chat cleared.
js-mod-bans = Bans and timeouts
js-mod-until = until %time%
js-mod-permanently = permanently
js-mod-nobody-banned = Nobody is banned.
js-mod-terms = Blocked terms
js-mod-add-term = Add a term
js-mod-new-term = New blocked term
js-mod-add = Add
js-mod-no-terms = No blocked terms.
js-mod-remove = Remove
js-mod-remove-term = Remove %term%
js-mod-log = Moderation log
js-mod-someone = someone

## Login refusals
login-invalid = Invalid username or password.
login-throttled = Too many failed logins. Try again in { $seconds } seconds.
login-busy = The server is busy. Try again in a moment.

## Moderation lines in the chat (watch.js words them from their key)
js-notice-ban = %user% has been banned
js-notice-timeout = %user% has been timed out for %duration%
js-notice-unban = %user% is no longer banned
js-notice-delete = A message was removed by a moderator
js-notice-clear-user = Messages from %user% were removed by a moderator
js-notice-clear = Chat was cleared by a moderator
js-notice-pin = A message was pinned
js-notice-unpin = The pinned message was unpinned
js-notice-slow-on = Slow mode is on: one message every %seconds% seconds
js-notice-slow-off = Slow mode is off
