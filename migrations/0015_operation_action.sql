-- What an operation does to its resource: 'delete' (every operation before
-- this migration) or 'restore' (a DMS instance back from the recycle bin).
ALTER TABLE change_operations ADD COLUMN action TEXT NOT NULL DEFAULT 'delete'
    CHECK (action IN ('delete', 'restore'));
