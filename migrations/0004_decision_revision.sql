-- Approvals are bound to the plan revision as well as to its hash: a change sent back by
-- re-validation can return to an earlier plan (the same hash), and the approvals of the
-- earlier revision must not count again. Decisions on the current plan take the change's
-- revision; those on earlier plans keep 0 (their revision was not recorded).
ALTER TABLE change_decisions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE change_decisions SET revision = (SELECT c.revision FROM changes c WHERE c.id = change_decisions.change_id)
    WHERE plan_hash = (SELECT c.plan_hash FROM changes c WHERE c.id = change_decisions.change_id);
-- One approval per person per plan revision.
DROP INDEX change_decisions_one_approval;
CREATE UNIQUE INDEX change_decisions_one_approval ON change_decisions (change_id, actor, revision, plan_hash)
    WHERE kind = 'approve';
