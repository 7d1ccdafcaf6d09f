-- Alerting gets its real shape. No release ever wrote alert_rules or alert_events (there was no alerting API
-- nor engine), so they are emptied first, which lets the NOT NULL columns below be added without defaults.
DELETE FROM "alert_events";--> statement-breakpoint
DELETE FROM "alert_rules";--> statement-breakpoint
ALTER TYPE "public"."alert_state" ADD VALUE 'stale';--> statement-breakpoint
ALTER TYPE "public"."delivery_status" ADD VALUE 'retrying';--> statement-breakpoint
ALTER TYPE "public"."delivery_status" ADD VALUE 'suppressed';--> statement-breakpoint
ALTER TYPE "public"."rule_kind" ADD VALUE 'reboot';--> statement-breakpoint
ALTER TYPE "public"."rule_kind" ADD VALUE 'event';--> statement-breakpoint
CREATE TABLE "maintenance_windows" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"days" jsonb NOT NULL,
	"start" text NOT NULL,
	"duration_minutes" integer NOT NULL,
	"matchers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "silences" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"matchers" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"comment" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_events" DROP CONSTRAINT "alert_events_rule_id_alert_rules_id_fk";
--> statement-breakpoint
ALTER TABLE "notification_deliveries" DROP CONSTRAINT "notification_deliveries_alert_event_id_alert_events_id_fk";
--> statement-breakpoint
DROP INDEX "alert_events_tenant_created_idx";--> statement-breakpoint
DROP INDEX "alert_events_rule_host_idx";--> statement-breakpoint
DROP INDEX "notification_deliveries_channel_idx";--> statement-breakpoint
ALTER TABLE "alert_rules" ALTER COLUMN "kind" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "rule_name" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "labels" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "peak" double precision;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "threshold" double precision;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "acknowledged_by" uuid;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "silenced" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "spec" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "built_in" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "quiet_hours" jsonb;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "hourly_budget" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "built_in" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "secret" text;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD COLUMN "message_id" text;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD COLUMN "alert_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD COLUMN "last_status" integer;--> statement-breakpoint
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "silences" ADD CONSTRAINT "silences_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "silences" ADD CONSTRAINT "silences_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "maintenance_windows_tenant_idx" ON "maintenance_windows" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "maintenance_windows_created_by_idx" ON "maintenance_windows" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "silences_tenant_ends_idx" ON "silences" USING btree ("tenant_id","ends_at");--> statement-breakpoint
CREATE INDEX "silences_created_by_idx" ON "silences" USING btree ("created_by");--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_events_tenant_state_idx" ON "alert_events" USING btree ("tenant_id","state");--> statement-breakpoint
CREATE INDEX "alert_events_tenant_started_idx" ON "alert_events" USING btree ("tenant_id","started_at");--> statement-breakpoint
CREATE INDEX "alert_events_tenant_rule_idx" ON "alert_events" USING btree ("tenant_id","rule_id");--> statement-breakpoint
CREATE INDEX "alert_events_host_idx" ON "alert_events" USING btree ("host_id");--> statement-breakpoint
CREATE INDEX "alert_events_acknowledged_by_idx" ON "alert_events" USING btree ("acknowledged_by");--> statement-breakpoint
CREATE INDEX "notification_deliveries_channel_created_idx" ON "notification_deliveries" USING btree ("channel_id","created_at");--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "metric";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "scope";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "comparison";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "warning_threshold";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "critical_threshold";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "for_seconds";--> statement-breakpoint
ALTER TABLE "alert_rules" DROP COLUMN "options";--> statement-breakpoint
ALTER TABLE "notification_deliveries" DROP COLUMN "alert_event_id";--> statement-breakpoint
DROP TYPE "public"."comparison";--> statement-breakpoint
-- The default rules and e-mail channel for every organisation that exists now; new organisations get the
-- same from worker/src/alerts/defaults.ts when they are created (migration.test.ts checks they match).
INSERT INTO "alert_rules" ("tenant_id", "name", "enabled", "kind", "spec", "built_in")
SELECT t."id", d."name", d."enabled", d."kind"::"rule_kind", d."spec", true
FROM "tenants" t CROSS JOIN (VALUES
  ('High CPU', true, 'threshold', '{"description":"","runbook":"","labels":{},"scope":{"type":"all"},"condition":{"kind":"threshold","metric":{"path":"cpu.total","match":[]},"aggregation":"avg","windowSeconds":300,"comparison":"gt","warning":{"threshold":90,"recovery":80},"critical":{"threshold":97,"recovery":90}},"forSeconds":300,"keepFiringForSeconds":0,"notify":{"channelIds":null,"renotifyMinutes":240,"groupWaitSeconds":30,"notifyResolved":true}}'::jsonb),
  ('High memory', true, 'threshold', '{"description":"","runbook":"","labels":{},"scope":{"type":"all"},"condition":{"kind":"threshold","metric":{"path":"memory.used_pct","match":[]},"aggregation":"avg","windowSeconds":300,"comparison":"gt","warning":{"threshold":90,"recovery":85},"critical":{"threshold":95,"recovery":90}},"forSeconds":300,"keepFiringForSeconds":0,"notify":{"channelIds":null,"renotifyMinutes":240,"groupWaitSeconds":30,"notifyResolved":true}}'::jsonb),
  ('Disk almost full', true, 'threshold', '{"description":"","runbook":"","labels":{},"scope":{"type":"all"},"condition":{"kind":"threshold","metric":{"path":"disk.used_pct","match":[]},"aggregation":"last","windowSeconds":0,"comparison":"gt","warning":{"threshold":85,"recovery":80},"critical":{"threshold":95,"recovery":90}},"forSeconds":0,"keepFiringForSeconds":0,"notify":{"channelIds":null,"renotifyMinutes":240,"groupWaitSeconds":30,"notifyResolved":true}}'::jsonb),
  ('Host down', true, 'no_data', '{"description":"","runbook":"","labels":{},"scope":{"type":"all"},"condition":{"kind":"no_data","graceIntervals":3,"level":"critical"},"forSeconds":0,"keepFiringForSeconds":0,"notify":{"channelIds":null,"renotifyMinutes":240,"groupWaitSeconds":30,"notifyResolved":true}}'::jsonb),
  ('Disk full within 24 h', true, 'forecast', '{"description":"","runbook":"","labels":{},"scope":{"type":"all"},"condition":{"kind":"forecast","metric":{"path":"disk.used_pct","match":[]},"lookbackHours":6,"horizonHours":24,"comparison":"gt","threshold":100,"level":"warning"},"forSeconds":0,"keepFiringForSeconds":0,"notify":{"channelIds":null,"renotifyMinutes":240,"groupWaitSeconds":30,"notifyResolved":true}}'::jsonb)
) AS d("name", "enabled", "kind", "spec");--> statement-breakpoint
INSERT INTO "notification_channels" ("tenant_id", "type", "name", "config", "min_level", "enabled", "quiet_hours", "hourly_budget", "built_in")
SELECT t."id", 'email', 'Owners and admins', '{"type":"email","to":{"kind":"roles","roles":["owner","admin"]}}'::jsonb, 'warning', true, NULL, 30, true
FROM "tenants" t;
