-- Audit log (audit package): append-only, hash-chained. See docs/audit.md for
-- the canonical encoding behind hash and the checkpoint format.
CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY,   -- 1, 2, 3, ... with no gaps
    time          TEXT    NOT NULL,      -- UTC, 2006-01-02T15:04:05.000000000Z (fixed width, sorts as text)
    actor         TEXT    NOT NULL,
    client_ip     TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    change_id     INTEGER NOT NULL,      -- 0 when the event belongs to no change
    service       TEXT    NOT NULL,
    project       TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    resource_name TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    details       TEXT    NOT NULL,      -- canonical JSON object, secrets redacted
    prev_hash     TEXT    NOT NULL,      -- hash of event seq-1 (64 zeros for seq 1)
    hash          TEXT    NOT NULL       -- lowercase hex SHA-256 of the canonical encoding
);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;

-- Everything below the events is derived data for review queries, not part of
-- the chain. audit_events has no secondary index and no insert trigger, so an
-- append writes one table, like a bare insert; the indexer (audit.Log.Index)
-- copies the events after MAX(audit_index.seq) into audit_index, audit_fts
-- and audit_daily in one transaction per batch, in the background and before
-- every review query, so results are exact. MAX(audit_index.seq) is the
-- indexer's position for all three.

-- The filter columns of each event. Review queries order by (time, seq); seq
-- is the rowid, so every index below ends in (time, seq) and serves that
-- ORDER BY without a sort.
CREATE TABLE audit_index (
    seq         INTEGER PRIMARY KEY,     -- audit_events.seq
    time        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    service     TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    change_id   INTEGER NOT NULL,
    outcome     TEXT    NOT NULL
);

CREATE INDEX audit_index_time        ON audit_index (time);
CREATE INDEX audit_index_actor       ON audit_index (actor, time);
CREATE INDEX audit_index_action      ON audit_index (action, time);
CREATE INDEX audit_index_service     ON audit_index (service, time);
CREATE INDEX audit_index_resource_id ON audit_index (resource_id, time);
CREATE INDEX audit_index_change_id   ON audit_index (change_id, time);
CREATE INDEX audit_index_outcome     ON audit_index (outcome, time);

-- Full-text search over resource names and details. FTS4 is built into
-- mattn/go-sqlite3 without build tags (FTS5 is not). External content: the
-- text lives once, in audit_events; docid = seq. order=DESC lets "newest
-- first" read doclists incrementally and stop at the page size;
-- matchinfo=fts3 skips the docsize/stat tables (no ranking).
CREATE VIRTUAL TABLE audit_fts USING fts4(content="audit_events", resource_name, details,
    tokenize=unicode61, order=DESC, matchinfo=fts3);

-- Events per UTC day, action and outcome for the review chart, so it reads a
-- few hundred rows instead of every event.
CREATE TABLE audit_daily (
    day     TEXT    NOT NULL,            -- YYYY-MM-DD (UTC)
    action  TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (action, day, outcome)
) WITHOUT ROWID;

-- Ed25519-signed statements "event seq has hash H", so a truncated tail or a
-- recomputed chain is detected. Written by audit.Checkpointer.
CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY,       -- the event this checkpoint covers
    time      TEXT    NOT NULL,          -- when it was signed, same encoding as audit_events.time
    hash      TEXT    NOT NULL,          -- audit_events.hash of that event
    key_id    TEXT    NOT NULL,          -- first 16 hex digits of SHA-256(public key)
    signature TEXT    NOT NULL           -- base64 (standard) Ed25519 signature, see docs/audit.md
);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
