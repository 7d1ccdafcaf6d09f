-- History tiers (issue #12, design.md "Storage"): immutable size-encoded chunks per (host, family, period) in
-- three tiers (raw hours, 1-minute days, 1-hour days), each partitioned by period so that retention drops whole
-- partitions; the landing tables (host_samples, custom_metric_points) partitioned by hour, compacted into chunks
-- once an hour closes and dropped a few hours later; app_events partitioned by month. Partitions are created and
-- dropped by the scheduled job (worker/src/history/partitions.ts); each table has a DEFAULT partition so that
-- an insert never fails for want of one. drizzle-kit knows none of this (it models plain tables): edit by hand.
CREATE TABLE "history_1h" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"family" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"point_count" integer NOT NULL,
	"payload" "bytea" NOT NULL,
	CONSTRAINT "history_1h_host_id_family_period_start_pk" PRIMARY KEY("host_id","family","period_start")
) PARTITION BY RANGE ("period_start");
--> statement-breakpoint
CREATE TABLE "history_1h_default" PARTITION OF "history_1h" DEFAULT;
--> statement-breakpoint
ALTER TABLE "history_1h" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
--> statement-breakpoint
CREATE TABLE "history_1m" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"family" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"point_count" integer NOT NULL,
	"payload" "bytea" NOT NULL,
	CONSTRAINT "history_1m_host_id_family_period_start_pk" PRIMARY KEY("host_id","family","period_start")
) PARTITION BY RANGE ("period_start");
--> statement-breakpoint
CREATE TABLE "history_1m_default" PARTITION OF "history_1m" DEFAULT;
--> statement-breakpoint
ALTER TABLE "history_1m" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
--> statement-breakpoint
CREATE TABLE "history_jobs" (
	"name" text PRIMARY KEY NOT NULL,
	"done_until" timestamp with time zone,
	"host_cursor" uuid,
	"lease_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "history_late" (
	"host_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"marked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "history_late_host_id_hour_pk" PRIMARY KEY("host_id","hour")
);
--> statement-breakpoint
CREATE TABLE "history_raw" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"family" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"point_count" integer NOT NULL,
	"payload" "bytea" NOT NULL,
	CONSTRAINT "history_raw_host_id_family_period_start_pk" PRIMARY KEY("host_id","family","period_start")
) PARTITION BY RANGE ("period_start");
--> statement-breakpoint
CREATE TABLE "history_raw_default" PARTITION OF "history_raw" DEFAULT;
--> statement-breakpoint
ALTER TABLE "history_raw" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "retention_raw_days" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "retention_1m_days" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "retention_1h_days" integer;--> statement-breakpoint
ALTER TABLE "history_1h" ADD CONSTRAINT "history_1h_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "history_1m" ADD CONSTRAINT "history_1m_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "history_late" ADD CONSTRAINT "history_late_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "history_raw" ADD CONSTRAINT "history_raw_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_samples" RENAME TO "host_samples_unpartitioned";--> statement-breakpoint
ALTER TABLE "host_samples_unpartitioned" RENAME CONSTRAINT "host_samples_host_id_ts_pk" TO "host_samples_unpartitioned_pk";--> statement-breakpoint
ALTER INDEX "host_samples_tenant_ts_idx" RENAME TO "host_samples_unpartitioned_tenant_ts_idx";--> statement-breakpoint
CREATE TABLE "host_samples" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"sample" jsonb NOT NULL,
	CONSTRAINT "host_samples_host_id_ts_pk" PRIMARY KEY("host_id","ts")
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
CREATE TABLE "host_samples_default" PARTITION OF "host_samples" DEFAULT;--> statement-breakpoint
ALTER TABLE "host_samples" ADD CONSTRAINT "host_samples_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_samples" ADD CONSTRAINT "host_samples_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "host_samples_tenant_ts_idx" ON "host_samples" USING btree ("tenant_id","ts");--> statement-breakpoint
INSERT INTO "host_samples" SELECT "tenant_id", "host_id", "ts", "sample" FROM "host_samples_unpartitioned";--> statement-breakpoint
DROP TABLE "host_samples_unpartitioned";--> statement-breakpoint
ALTER TABLE "custom_metric_points" RENAME TO "custom_metric_points_unpartitioned";--> statement-breakpoint
ALTER INDEX "custom_metric_points_host_name_ts_idx" RENAME TO "custom_metric_points_unpartitioned_host_name_ts_idx";--> statement-breakpoint
ALTER INDEX "custom_metric_points_tenant_ts_idx" RENAME TO "custom_metric_points_unpartitioned_tenant_ts_idx";--> statement-breakpoint
CREATE TABLE "custom_metric_points" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"name" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"kind" "metric_kind" NOT NULL,
	"value" double precision NOT NULL,
	"summary" jsonb,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
CREATE TABLE "custom_metric_points_default" PARTITION OF "custom_metric_points" DEFAULT;--> statement-breakpoint
ALTER TABLE "custom_metric_points" ADD CONSTRAINT "custom_metric_points_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metric_points" ADD CONSTRAINT "custom_metric_points_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "custom_metric_points_host_name_ts_idx" ON "custom_metric_points" USING btree ("host_id","name","ts");--> statement-breakpoint
CREATE INDEX "custom_metric_points_tenant_ts_idx" ON "custom_metric_points" USING btree ("tenant_id","ts");--> statement-breakpoint
INSERT INTO "custom_metric_points" SELECT "tenant_id", "host_id", "name", "ts", "kind", "value", "summary", "labels" FROM "custom_metric_points_unpartitioned";--> statement-breakpoint
DROP TABLE "custom_metric_points_unpartitioned";--> statement-breakpoint
ALTER TABLE "app_events" RENAME TO "app_events_unpartitioned";--> statement-breakpoint
ALTER TABLE "app_events_unpartitioned" RENAME CONSTRAINT "app_events_pkey" TO "app_events_unpartitioned_pkey";--> statement-breakpoint
ALTER INDEX "app_events_host_ts_idx" RENAME TO "app_events_unpartitioned_host_ts_idx";--> statement-breakpoint
ALTER INDEX "app_events_tenant_ts_idx" RENAME TO "app_events_unpartitioned_tenant_ts_idx";--> statement-breakpoint
CREATE TABLE "app_events" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text,
	"name" text,
	"progress" real,
	"message" text,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "app_events_pkey" PRIMARY KEY("id","ts")
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
CREATE TABLE "app_events_default" PARTITION OF "app_events" DEFAULT;--> statement-breakpoint
ALTER TABLE "app_events" ADD CONSTRAINT "app_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_events" ADD CONSTRAINT "app_events_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_events_host_ts_idx" ON "app_events" USING btree ("host_id","ts");--> statement-breakpoint
CREATE INDEX "app_events_tenant_ts_idx" ON "app_events" USING btree ("tenant_id","ts");--> statement-breakpoint
INSERT INTO "app_events" SELECT "id", "tenant_id", "host_id", "ts", "kind", "subject_id", "name", "progress", "message", "labels" FROM "app_events_unpartitioned";--> statement-breakpoint
DROP TABLE "app_events_unpartitioned";
