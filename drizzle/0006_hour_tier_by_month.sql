-- The 1-hour tier's period becomes a month (a chunk per host, family and month; it was a day), so a year's
-- chart reads 12 chunks per family rather than 365 (docs/decisions.md, "History storage"). No column changes.
-- Chunks are encoded by the Worker's codec, which SQL cannot run: this marks the day chunks written so far
-- for the history jobs to merge into months (worker/src/history/hour-tier-months.ts) before their next
-- roll-up. A database without 1-hour chunks needs nothing.
INSERT INTO "history_jobs" ("name") SELECT '1h_day_chunks' WHERE EXISTS (SELECT 1 FROM "history_1h") ON CONFLICT ("name") DO NOTHING;
