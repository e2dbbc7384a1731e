-- Change requests, their decisions and per-resource operations (changes and
-- poller packages), and approval policies. Times are RFC 3339 UTC text with
-- nanoseconds ('' when unset).
CREATE TABLE changes (
    id                 INTEGER PRIMARY KEY,
    state              TEXT    NOT NULL,
    requester          TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    ticket             TEXT    NOT NULL DEFAULT '',
    force_delete       INTEGER NOT NULL DEFAULT 0,
    plan_json          TEXT    NOT NULL,
    plan_hash          TEXT    NOT NULL,
    revision           INTEGER NOT NULL DEFAULT 1,
    resource_count     INTEGER NOT NULL,
    approvals_required INTEGER NOT NULL,
    differences_json   TEXT    NOT NULL DEFAULT '[]',
    retry_of           INTEGER REFERENCES changes (id),
    projects           TEXT    NOT NULL DEFAULT '', -- ",p1,p2," for filtering
    services           TEXT    NOT NULL DEFAULT '', -- ",rocketmq,clouddc,"
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    submitted_at       TEXT    NOT NULL DEFAULT '',
    approved_at        TEXT    NOT NULL DEFAULT '',
    expires_at         TEXT    NOT NULL DEFAULT '',
    executed_at        TEXT    NOT NULL DEFAULT '',
    executed_by        TEXT    NOT NULL DEFAULT '',
    finished_at        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX changes_state_id ON changes (state, id);
CREATE INDEX changes_requester_id ON changes (requester, id);

CREATE TABLE change_decisions (
    id        INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL REFERENCES changes (id),
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('approve', 'reject', 'cancel')),
    comment   TEXT    NOT NULL DEFAULT '',
    plan_hash TEXT    NOT NULL,
    at        TEXT    NOT NULL
);
CREATE INDEX change_decisions_change ON change_decisions (change_id, id);
-- One approval per person per plan revision.
CREATE UNIQUE INDEX change_decisions_one_approval ON change_decisions (change_id, actor, plan_hash)
    WHERE kind = 'approve';

-- One row per planned resource once the change executes. state:
-- queued -> submitted (call sent, result unknown) -> in_progress -> done | failed | timed_out.
CREATE TABLE change_operations (
    id            INTEGER PRIMARY KEY,
    change_id     INTEGER NOT NULL REFERENCES changes (id),
    seq           INTEGER NOT NULL,
    batch         INTEGER NOT NULL,
    account       TEXT    NOT NULL,
    project       TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    parent        TEXT    NOT NULL DEFAULT '',
    resource_id   TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    planned_status TEXT   NOT NULL DEFAULT '',
    force_delete  INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL DEFAULT 'queued',
    attempts      INTEGER NOT NULL DEFAULT 0,
    polls         INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    last_status   TEXT    NOT NULL DEFAULT '',
    job_id        TEXT    NOT NULL DEFAULT '',
    submitted_at  TEXT    NOT NULL DEFAULT '',
    next_poll_at  TEXT    NOT NULL DEFAULT '',
    deadline      TEXT    NOT NULL DEFAULT '',
    finished_at   TEXT    NOT NULL DEFAULT '',
    updated_at    TEXT    NOT NULL,
    UNIQUE (change_id, seq)
);
CREATE INDEX change_operations_state ON change_operations (state, next_poll_at);

CREATE TABLE change_policies (
    project                  TEXT PRIMARY KEY, -- '' = global
    approvals_required       INTEGER NOT NULL,
    force_approvals_required INTEGER NOT NULL,
    approver_roles           TEXT    NOT NULL, -- comma-separated
    ttl_seconds              INTEGER NOT NULL,
    webhook_url              TEXT    NOT NULL DEFAULT '',
    updated_by               TEXT    NOT NULL,
    updated_at               TEXT    NOT NULL
);
