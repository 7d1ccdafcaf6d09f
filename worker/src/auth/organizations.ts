import type { OrganizationSummary } from '@pulsewire/protocol';
import { asc, eq } from 'drizzle-orm';
import { defaultAlertingRows } from '../alerts/defaults.ts';
import type { Database } from '../db/client.ts';
import { alertRules, memberships, notificationChannels, tenants } from '../db/schema.ts';
import { randomToken } from './tokens.ts';

function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  // A random suffix keeps slugs unique without a read-then-write race.
  return `${base || 'org'}-${
    randomToken(4)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 5) || 'x'
  }`;
}

/** An organisation with its owner and its default alert rules and channel; callers run it in a transaction. */
export async function createOrganization(
  database: Pick<Database, 'insert'>,
  name: string,
  ownerId: string,
): Promise<{ id: string }> {
  const [tenant] = await database
    .insert(tenants)
    .values({ name, slug: slugify(name) })
    .returning({ id: tenants.id });
  if (!tenant) throw new Error('tenant insert returned nothing');
  await database.insert(memberships).values({ tenantId: tenant.id, userId: ownerId, role: 'owner' });
  const defaults = defaultAlertingRows(tenant.id);
  await database.insert(alertRules).values(defaults.rules);
  await database.insert(notificationChannels).values(defaults.channel);
  return tenant;
}

export async function listOrganizations(database: Database, userId: string): Promise<OrganizationSummary[]> {
  return database
    .select({ id: tenants.id, name: tenants.name, slug: tenants.slug, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt));
}
