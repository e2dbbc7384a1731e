-- The support trail of each operation: the cloud's X-Request-Id of every
-- destructive call made for it and of its latest status reads, as a JSON array
-- of {"op", "id", "http", "destructive"} (poller/trail.go keeps every
-- destructive call and the last few reads). A support ticket or a CTS query
-- can then name the exact call.
ALTER TABLE change_operations ADD COLUMN request_ids TEXT NOT NULL DEFAULT '[]';
