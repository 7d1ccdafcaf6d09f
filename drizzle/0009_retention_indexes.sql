-- Retention deletes resolved alerts and old deliveries across tenants by age, a chunk at a time; each chunk
-- found its rows by scanning the whole table without these.
CREATE INDEX "alert_events_resolved_at_idx" ON "alert_events" USING btree ("resolved_at") WHERE state = 'resolved';--> statement-breakpoint
CREATE INDEX "notification_deliveries_created_idx" ON "notification_deliveries" USING btree ("created_at");