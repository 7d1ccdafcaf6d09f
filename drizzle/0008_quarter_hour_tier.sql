-- A 15-minute rollup tier (docs/decisions.md, "A 15-minute tier"): min/avg/max/count per 15 minutes, a chunk per
-- host, family and closed day (96 buckets), so a week's chart (a 15-minute step) decodes 672 buckets per series
-- instead of the 1-minute tier's 10,080. Partitioned by month like `history_1m` (partitions are made by the
-- scheduled job, worker/src/history/partitions.ts); kept as long as the 1-minute tier. drizzle-kit models plain
-- tables: edited by hand, as 0005.
CREATE TABLE "history_15m" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"family" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"point_count" integer NOT NULL,
	"payload" "bytea" NOT NULL,
	CONSTRAINT "history_15m_host_id_family_period_start_pk" PRIMARY KEY("host_id","family","period_start")
) PARTITION BY RANGE ("period_start");
--> statement-breakpoint
CREATE TABLE "history_15m_default" PARTITION OF "history_15m" DEFAULT;
--> statement-breakpoint
ALTER TABLE "history_15m" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "history_15m" ADD CONSTRAINT "history_15m_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- Days rolled up before this migration have 1-minute chunks only, and raw points for the last 30 days at most:
-- the jobs build their 15-minute chunks from the 1-minute ones (worker/src/history/quarter-hour-backfill.ts)
-- before their next roll-up, and drop this marker once none is left. A database without 1-minute chunks needs
-- nothing.
INSERT INTO "history_jobs" ("name") SELECT '15m_from_1m' WHERE EXISTS (SELECT 1 FROM "history_1m") ON CONFLICT ("name") DO NOTHING;
