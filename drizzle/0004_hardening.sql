-- Hardening (issue #11): a host is its key pair (unique per organisation among hosts not deleted; the machine id
-- is no longer unique, cloned machines share one), admin-allowed key replacement, soft deletion of hosts and
-- organisations purged later in bounded chunks, an audit log, and an index on every foreign key column that an
-- ON DELETE CASCADE / SET NULL walks (so a purge never scans a whole table).
CREATE TYPE "public"."audit_actor_kind" AS ENUM('user', 'api_key', 'system');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"actor_kind" "audit_actor_kind" NOT NULL,
	"actor_id" uuid,
	"actor_label" text NOT NULL,
	"action" text NOT NULL,
	"target_kind" text NOT NULL,
	"target_id" uuid NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "hosts_tenant_machine_key";--> statement-breakpoint
DROP INDEX "hosts_tenant_name_idx";--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "key_replace_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_tenant_at_idx" ON "audit_log" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_tenant_target_idx" ON "audit_log" USING btree ("tenant_id","target_id");--> statement-breakpoint
CREATE INDEX "api_keys_created_by_idx" ON "api_keys" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "custom_metric_points_tenant_ts_idx" ON "custom_metric_points" USING btree ("tenant_id","ts");--> statement-breakpoint
CREATE UNIQUE INDEX "hosts_tenant_public_key_key" ON "hosts" USING btree ("tenant_id","public_key") WHERE "hosts"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "hosts_tenant_machine_idx" ON "hosts" USING btree ("tenant_id","machine_id");--> statement-breakpoint
CREATE INDEX "hosts_tenant_name_id_idx" ON "hosts" USING btree ("tenant_id","name","id");--> statement-breakpoint
CREATE INDEX "hosts_enrolled_with_key_idx" ON "hosts" USING btree ("enrolled_with_key_id");--> statement-breakpoint
CREATE INDEX "hosts_deleted_idx" ON "hosts" USING btree ("deleted_at") WHERE "hosts"."deleted_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "ingest_batches_tenant_idx" ON "ingest_batches" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "invitations_invited_by_idx" ON "invitations" USING btree ("invited_by");--> statement-breakpoint
CREATE INDEX "sessions_active_tenant_idx" ON "sessions" USING btree ("active_tenant_id");--> statement-breakpoint
CREATE INDEX "tenants_deleted_idx" ON "tenants" USING btree ("deleted_at") WHERE "tenants"."deleted_at" IS NOT NULL;