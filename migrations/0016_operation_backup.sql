-- 1 when the operation's ROMA asset is exported to an archive before its
-- delete job starts (the plan's default); 0 for everything else, including
-- every operation before this migration.
ALTER TABLE change_operations ADD COLUMN backup INTEGER NOT NULL DEFAULT 0 CHECK (backup IN (0, 1));
