-- Server-side console sessions (auth package). The browser's cookie holds
-- only a random session token; this table keeps its SHA-256, so a copy of the
-- database does not hand out live sessions. Revocation is a DELETE.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,              -- shown on the admin page, used to revoke one session
    token_hash   BLOB    NOT NULL UNIQUE,          -- SHA-256 of the cookie's token
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,                 -- refreshed at most once a minute
    client_ip    TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,                 -- truncated to 256 bytes
    method       TEXT    NOT NULL DEFAULT 'password' -- password or oidc
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
