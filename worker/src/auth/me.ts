import type { MeResponse } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { users } from '../db/schema.ts';
import { HttpError, unauthorized } from '../http/errors.ts';
import { listOrganizations } from './organizations.ts';

/** The signed-in user, the organisation the session works in, and every organisation they belong to. */
export async function buildMe(database: Database, userId: string, tenantId: string | null): Promise<MeResponse> {
  const [user] = await database.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) throw unauthorized();
  const organizations = await listOrganizations(database, userId);
  const organization = organizations.find((o) => o.id === tenantId) ?? organizations[0];
  if (!organization) throw new HttpError(403, 'no_organization', 'You are not a member of any organisation');
  return {
    user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null },
    organization,
    organizations,
  };
}
