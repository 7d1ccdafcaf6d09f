-- A closed day's raw chunks become one chunk per host, family and day (they were an hour each), keyed at the
-- day's start; `period_hours` tells it (24) from that hour's chunk (1), so readers find the chunk holding an
-- hour and retention knows where a chunk ends (docs/decisions.md, "History storage"). Chunks written so far are
-- hours: the default says so without rewriting a row, and the history jobs fold their closed days
-- (worker/src/history/raw-days.ts).
ALTER TABLE "history_raw" ADD COLUMN "period_hours" smallint DEFAULT 1 NOT NULL;
