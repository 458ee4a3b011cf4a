# Stampede の日本語。`js-` で始まる ID は watch.js と mod_panel.js が使い、
# `%name%` はスクリプトが埋めます。

## ヘッダー
nav-log-in = ログイン
nav-log-out = ログアウト
nav-analytics = 分析
nav-language = 言語

## ホーム
home-live-now = ライブ配信中
home-nothing-live = 現在ライブ配信はありません。
home-coming-up = 配信予定
home-recently-ended = 最近終了した配信
home-by = { $owner }
badge-live = LIVE
badge-upcoming = 予定
badge-ended = 終了

## ログイン
login-title = ログイン
login-username = ユーザー名
login-password = パスワード
login-submit = ログイン

## 視聴ページとチャット
watch-with = 配信者: { $owner }
watch-video = 映像
chat-title = ライブチャット
chat-label = チャット
chat-connecting = 接続中…
chat-pop-out = 別ウィンドウ
chat-pop-out-title = チャットを別ウィンドウで開く
chat-pinned = ピン留めされたメッセージ
chat-messages = チャットのメッセージ
chat-more-below = 新しいメッセージがあります
chat-placeholder = メッセージを入力…
chat-message = メッセージ
chat-send = 送信
chat-reactions = リアクション

## watch.js
js-status-connecting = 接続中…
js-status-live = ライブ
js-status-reconnecting = 再接続中…
js-status-read-only = 閲覧のみ
js-status-ended = 終了
js-status-logged-out = ログアウト済み
js-sending = 送信中…
js-waiting = 未送信: 接続を待っています
js-not-sent-ended = 未送信: 配信は終了しました
js-more-below = 新しいメッセージがあります
js-more-below-count = 新しいメッセージがあります (%count%)
js-new-messages = 新しいメッセージ %count% 件
js-slow-mode-label = 低速モード: %seconds% 秒
js-viewers-one = 視聴者 1 人
js-viewers-many = 視聴者 %count% 人
js-wait-rate-limited = 送信が速すぎます。%seconds% 秒後にもう一度お試しください。
js-wait-slow-mode = 低速モードです。%seconds% 秒後にもう一度お試しください。
js-error-too-long = メッセージが長すぎます。
js-error-empty = メッセージを入力してください。
js-error-unknown-stamp = このスタンプは使えません。
js-error-blocked-term = 禁止語句が含まれています。
js-error-forbidden = この操作はできません。
js-error-not-found = このメッセージはもうありません。
js-error-bad-request = 送信できない文字が含まれています。
js-error-unavailable = 現在チャットを利用できません。メッセージは送信されていません。しばらくしてからもう一度お試しください。
js-error-read-only = このチャットは閲覧のみです。
js-timed-out-until = %time% までタイムアウト中です。
js-banned = このチャットから追放されています。
js-reason = 理由: %reason%
js-stream-ended = この配信は終了しました。
js-logged-out = ログアウトしました。チャットするには再度ログインしてください。
js-too-many-unsent = 未送信のメッセージが多すぎます。接続の回復をお待ちください。
js-not-connected-stamp = 未接続: 再接続するまでリアクションは送信されません。
js-badge-streamer = 配信者
js-badge-moderator = モデレーター
js-badge-admin = 管理者
js-ended-badge = 終了
js-unpin = ピン留めを外す
js-moderate-line = %user% のメッセージを管理

## mod_panel.js
js-mod-pin = ピン留め
js-mod-delete = 削除
js-mod-user-card = ユーザー情報…
js-mod-close = 閉じる
js-mod-loading = 読み込み中…
js-mod-working = 処理中…
js-mod-user = ユーザー
js-mod-panel = モデレーション
js-mod-panel-title = モデレーションツール
js-mod-joined-today = 今日登録
js-mod-joined-days = %count% 日前に登録
js-mod-joined-months = %count% か月前に登録
js-mod-deactivated = 無効化済み
js-mod-timed-out-until = %time% までタイムアウト
js-mod-banned = 追放中
js-mod-whole-tenant = (テナント全体)
js-mod-reason-placeholder = 理由 (任意)
js-mod-reason = 理由
js-mod-timeout-length = タイムアウトの長さ
js-mod-1-minute = 1 分
js-mod-10-minutes = 10 分
js-mod-1-hour = 1 時間
js-mod-24-hours = 24 時間
js-mod-7-days = 7 日
js-mod-time-out = タイムアウト
js-mod-ban = 追放
js-mod-unban = 追放を解除
js-mod-unban-user = %user% の追放を解除
js-mod-confirm-ban = %user% をこのチャットから追放しますか?
js-mod-timed-out = タイムアウトしました。
js-mod-banned-done = 追放しました。
js-mod-ban-lifted = 追放を解除しました。
js-mod-cannot-ban = このユーザーはタイムアウトや追放ができません。
js-mod-recent = このチャットでの最近の発言
js-mod-deleted = (削除済み)
js-mod-nothing-yet = まだありません。
js-mod-chat-rules = チャットのルール
js-mod-slow-mode = 低速モード
js-mod-slow-off = 低速モード: オフ
js-mod-slow-seconds = 低速モード: %seconds% 秒
js-mod-apply = 適用
js-mod-slow-on-done = 低速モードをオンにしました。
js-mod-slow-off-done = 低速モードをオフにしました。
js-mod-clear = チャットを消去
js-mod-confirm-clear = このチャットのメッセージをすべて消去しますか?
js-mod-cleared = チャットを消去しました。
js-mod-bans = 追放とタイムアウト
js-mod-until = %time% まで
js-mod-permanently = 無期限
js-mod-nobody-banned = 追放されているユーザーはいません。
js-mod-terms = 禁止語句
js-mod-add-term = 語句を追加
js-mod-new-term = 新しい禁止語句
js-mod-add = 追加
js-mod-no-terms = 禁止語句はありません。
js-mod-remove = 削除
js-mod-remove-term = %term% を削除
js-mod-log = モデレーション履歴
js-mod-someone = 誰か

## ログインの拒否
login-invalid = ユーザー名またはパスワードが違います。
login-throttled = ログインの失敗が多すぎます。{ $seconds } 秒後にもう一度お試しください。
login-busy = サーバーが混み合っています。しばらくしてからもう一度お試しください。

## チャット内のモデレーション通知 (watch.js がキーから表示)
js-notice-ban = %user% さんが追放されました
js-notice-timeout = %user% さんが %duration% のタイムアウトになりました
js-notice-unban = %user% さんの追放が解除されました
js-notice-delete = モデレーターがメッセージを削除しました
js-notice-clear-user = モデレーターが %user% さんのメッセージを削除しました
js-notice-clear = モデレーターがチャットを消去しました
js-notice-pin = メッセージがピン留めされました
js-notice-unpin = ピン留めが外されました
js-notice-slow-on = 低速モード: %seconds% 秒に 1 回まで送信できます
js-notice-slow-off = 低速モードがオフになりました
