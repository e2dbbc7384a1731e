-- Server-side console sessions (auth package). The browser's cookie holds
-- only a random session token; this table keeps its SHA-256, so a copy of the
-- database does not hand out live sessions. Revocation is a DELETE.
--
-- username and roles are the user's at sign-in, so a request reads one row.
-- They cannot go stale: any change to a user's roles, password or disabled
-- state deletes the user's sessions (auth does it in the change's
-- transaction, with its audit event; the trigger below holds the rule for
-- any other writer too).
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,              -- shown on the admin page, used to revoke one session
    token_hash   BLOB    NOT NULL UNIQUE,          -- SHA-256 of the cookie's token
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username     TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,                 -- refreshed at most once a minute
    client_ip    TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,                 -- at most 256 bytes
    method       TEXT    NOT NULL DEFAULT 'password' -- password or oidc
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TRIGGER users_change_ends_sessions AFTER UPDATE OF roles, password_hash, disabled ON users
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
END;
