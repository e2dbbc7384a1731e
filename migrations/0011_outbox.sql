-- Notifications (notify package): channels admins configure per project
-- ('' = global), and the outbox of messages to deliver. Outbox rows are
-- written in the same transaction as the state change they announce; the
-- delivery worker sends them with backoff and records every attempt. Times
-- use store.FormatTime ('' when unset).
CREATE TABLE notify_channels (
    id         INTEGER PRIMARY KEY,
    project    TEXT    NOT NULL,                 -- '' = every change
    format     TEXT    NOT NULL,                 -- json, slack, teams, feishu, dingtalk, wecom
    url        TEXT    NOT NULL,                 -- secret: shown only redacted
    secret     TEXT    NOT NULL DEFAULT '',      -- HMAC key (json), signing secret (feishu, dingtalk)
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX notify_channels_project ON notify_channels (project, id);

-- One row per (event, channel). event_id is shared by the channels of one
-- event and carried by every message, for receivers to deduplicate.
-- state: pending -> delivered | failed (gave up after the last attempt).
CREATE TABLE notify_outbox (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL,
    channel_id   INTEGER NOT NULL,               -- no FK: a removed channel keeps its history
    change_id    INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    event_json   TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TEXT    NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    delivered_at TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_at);
CREATE INDEX notify_outbox_change ON notify_outbox (change_id, id);

-- Every delivery attempt: HTTP status (0 when none) and the error, redacted.
CREATE TABLE notify_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES notify_outbox (id),
    n           INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL
);
CREATE INDEX notify_attempts_outbox ON notify_attempts (outbox_id, n);

-- The policies' single webhook URLs become generic JSON channels with a new
-- signing secret (shown to admins on the notifications page).
INSERT INTO notify_channels (project, format, url, secret, created_by, created_at)
    SELECT project, 'json', webhook_url, lower(hex(randomblob(32))), 'migration 0011', updated_at
    FROM change_policies WHERE webhook_url <> '';
