-- Users of the console and their roles (auth package).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    roles         TEXT    NOT NULL DEFAULT '',      -- comma-separated: viewer,requester,approver,auditor,admin
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

-- Failed sign-ins per username and per client IP, for throttling.
CREATE TABLE login_failures (
    id         INTEGER PRIMARY KEY,
    username   TEXT NOT NULL,
    client_ip  TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);
CREATE INDEX login_failures_ip_at ON login_failures (client_ip, at);
