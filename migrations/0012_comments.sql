-- Discussion thread of a change (changes package). The text is also in the
-- audit event of each comment, so the audit log's full-text search finds it.
CREATE TABLE change_comments (
    id        INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL REFERENCES changes (id),
    actor     TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    at        TEXT    NOT NULL
);
CREATE INDEX change_comments_change ON change_comments (change_id, id);
