-- The runs older than their retention are forgotten by the sweep of the auto-close loop,
-- oldest first.
CREATE INDEX trigger_runs_by_apply_time ON trigger_runs (apply_time);
