CREATE TYPE "public"."metric_kind" AS ENUM('gauge', 'counter', 'histogram', 'set');--> statement-breakpoint
CREATE TABLE "app_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text,
	"name" text,
	"progress" real,
	"message" text,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "custom_metric_points" (
	"tenant_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"name" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"kind" "metric_kind" NOT NULL,
	"value" double precision NOT NULL,
	"summary" jsonb,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_events" ADD CONSTRAINT "app_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_events" ADD CONSTRAINT "app_events_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metric_points" ADD CONSTRAINT "custom_metric_points_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metric_points" ADD CONSTRAINT "custom_metric_points_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_events_host_ts_idx" ON "app_events" USING btree ("host_id","ts");--> statement-breakpoint
CREATE INDEX "app_events_tenant_ts_idx" ON "app_events" USING btree ("tenant_id","ts");--> statement-breakpoint
CREATE INDEX "custom_metric_points_host_name_ts_idx" ON "custom_metric_points" USING btree ("host_id","name","ts");--> statement-breakpoint
CREATE UNIQUE INDEX "ingest_batches_host_seq_key" ON "ingest_batches" USING btree ("host_id","seq");