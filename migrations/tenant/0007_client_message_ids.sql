-- Client message ids: a chat frame may carry "client_id", chosen by the
-- client and unique per user per room for 24 hours. A resend with the same
-- id (after a reconnect that lost the echo) finds the claim here and is not
-- stored again; the sender is sent the original message instead. A claim
-- older than 24 hours may be taken over by a new message.
CREATE TABLE chat_clientmessage (
    room_id int4 NOT NULL,
    user_id int4 NOT NULL,
    client_id varchar(64) NOT NULL,
    message_id int4 NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id, client_id)
);
CREATE INDEX chat_clientmessage_created_at ON chat_clientmessage (created_at);
