-- Lists of runs are read newest first (ORDER BY id DESC, ids are ULIDs) by
-- job, by state, by kind, or by job and kind: each has an index in that
-- order, so a page of 50 reads about 50 rows whatever the history holds.
-- (runs_job and runs_state, by queued_at, could not serve that order: a
-- small job's page scanned most of the table.)
CREATE INDEX runs_job_newest ON runs (job_name, id);
CREATE INDEX runs_state_newest ON runs (state, id);
CREATE INDEX runs_kind_newest ON runs (kind, id);
CREATE INDEX runs_job_kind_newest ON runs (job_name, kind, id);
