-- What an operation does to its resource: 'delete' (every operation before
-- this migration), 'restore' (a DMS instance back from the recycle bin) or
-- 'import' (ROMA assets re-imported from a stored backup archive).
ALTER TABLE change_operations ADD COLUMN action TEXT NOT NULL DEFAULT 'delete'
    CHECK (action IN ('delete', 'restore', 'import'));
