-- ROMA asset backups (poller, changes). backup: 1 when the operation's ROMA
-- asset is exported to an archive before its delete job starts (the plan's
-- default); 0 for everything else, including every operation before this
-- migration. archive: for an import operation, the SHA-256 of the stored
-- archive it imports.
ALTER TABLE change_operations ADD COLUMN backup INTEGER NOT NULL DEFAULT 0 CHECK (backup IN (0, 1));
ALTER TABLE change_operations ADD COLUMN archive TEXT NOT NULL DEFAULT '';

-- One row per archive stored before a ROMA delete job: <data>/backups/<sha256>.zip.
CREATE TABLE roma_backups (
    id          INTEGER PRIMARY KEY,
    change_id   INTEGER NOT NULL REFERENCES changes (id),
    batch       INTEGER NOT NULL,
    account     TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    instance    TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    archive_id  TEXT    NOT NULL,
    assets_json TEXT    NOT NULL, -- [{"id","kind","name"}]
    created_at  TEXT    NOT NULL
);
CREATE INDEX roma_backups_change ON roma_backups (change_id, id);
