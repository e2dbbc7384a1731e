-- Protection rules (changes package, changes/protection.go): a resource that a
-- rule matches cannot be selected, planned or executed. The tag decom:protect
-- is built in and not stored. Rows are added and removed by admins; every
-- change has its audit event (protection_changed) in the same transaction.
CREATE TABLE protection_rules (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('tag', 'name', 'enterprise_project', 'project', 'service')),
    pattern    TEXT    NOT NULL,             -- tag "key" or "key=value", name glob, ID or service
    note       TEXT    NOT NULL DEFAULT '',  -- why, shown beside the shield
    match_key  TEXT    NOT NULL UNIQUE,      -- kind and lower-case pattern: one rule per meaning
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL              -- same encoding as the changes tables
);
