import * as z from 'zod';
import { storableText } from './storable.ts';

/** Passwords: long enough to resist guessing, bounded so hashing cost stays bounded. */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be an e-mail address' }))
  .transform((email) => email.toLowerCase());

export const Password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

// storableText: a NUL in a name reached Postgres as a 500.
const Name = storableText.trim().min(1).max(100);
/** Tokens from e-mailed links: 32 random bytes, base64url. */
export const LinkToken = z
  .string()
  .min(20)
  .max(200)
  .regex(/^[\w-]+$/, 'malformed token');

export const Role = z.enum(['owner', 'admin', 'viewer']).meta({ id: 'Role' });
export type Role = z.infer<typeof Role>;

const roleRank: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

/** True when `role` is at least `minimum` (owner > admin > viewer); `undefined` (no membership) never is. */
export function roleAtLeast(role: Role | undefined, minimum: Role): boolean {
  return role !== undefined && roleRank[role] >= roleRank[minimum];
}

export const SignupRequest = z
  .object({
    email: Email,
    password: Password,
    name: Name.optional(),
    organizationName: Name.optional(),
  })
  .meta({ id: 'SignupRequest' });
export type SignupRequest = z.input<typeof SignupRequest>;

export const LoginRequest = z
  .object({ email: Email, password: z.string().min(1).max(PASSWORD_MAX_LENGTH) })
  .meta({ id: 'LoginRequest' });
export type LoginRequest = z.input<typeof LoginRequest>;

export const VerifyEmailRequest = z.object({ token: LinkToken }).meta({ id: 'VerifyEmailRequest' });
export const ForgotPasswordRequest = z.object({ email: Email }).meta({ id: 'ForgotPasswordRequest' });
export const ResetPasswordRequest = z
  .object({ token: LinkToken, password: Password })
  .meta({ id: 'ResetPasswordRequest' });
export const ChangePasswordRequest = z
  .object({
    currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
    newPassword: Password,
  })
  .meta({ id: 'ChangePasswordRequest' });
export const ChangeEmailRequest = z
  .object({ newEmail: Email, password: z.string().min(1).max(PASSWORD_MAX_LENGTH) })
  .meta({ id: 'ChangeEmailRequest' });
export const SwitchOrganizationRequest = z
  .object({ organizationId: z.uuid() })
  .meta({ id: 'SwitchOrganizationRequest' });
export const CreateOrganizationRequest = z.object({ name: Name }).meta({ id: 'CreateOrganizationRequest' });

export const OrganizationSummary = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    role: Role,
  })
  .meta({ id: 'OrganizationSummary' });
export type OrganizationSummary = z.infer<typeof OrganizationSummary>;

export const UserProfile = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    emailVerified: z.boolean(),
  })
  .meta({ id: 'UserProfile' });

export const MeResponse = z
  .object({
    user: UserProfile,
    /** The organisation this session works in. */
    organization: OrganizationSummary,
    organizations: z.array(OrganizationSummary),
  })
  .meta({ id: 'MeResponse' });
export type MeResponse = z.infer<typeof MeResponse>;

/** Answers that must not reveal whether an account exists (sign-up, forgot password). */
export const AcceptedResponse = z.object({ ok: z.literal(true), message: z.string() }).meta({ id: 'AcceptedResponse' });
export type AcceptedResponse = z.infer<typeof AcceptedResponse>;

// ── members and invitations ────────────────────────────────────────────────────────────────

export const Member = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: Role,
    joinedAt: z.iso.datetime(),
  })
  .meta({ id: 'Member' });
export const MemberList = z.object({ members: z.array(Member) }).meta({ id: 'MemberList' });

export const InvitationRequest = z
  .object({ email: Email, role: z.enum(['admin', 'viewer']) })
  .meta({ id: 'InvitationRequest' });
export const Invitation = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: Role,
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Invitation' });
export const InvitationList = z.object({ invitations: z.array(Invitation) }).meta({ id: 'InvitationList' });

/** Accepting as a new user needs a password; a signed-in user accepts with the token alone. */
export const AcceptInvitationRequest = z
  .object({
    token: LinkToken,
    password: Password.optional(),
    name: Name.optional(),
  })
  .meta({ id: 'AcceptInvitationRequest' });
export const UpdateMemberRequest = z.object({ role: Role }).meta({ id: 'UpdateMemberRequest' });

// ── API keys ───────────────────────────────────────────────────────────────────────────────

export const API_KEY_PREFIX = 'pw_live_';
export const ApiKeyScope = z.enum(['ingest', 'read']).meta({ id: 'ApiKeyScope' });
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

export const CreateApiKeyRequest = z.object({ name: Name, scope: ApiKeyScope }).meta({ id: 'CreateApiKeyRequest' });
export const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    /** The first characters of the secret, e.g. `pw_live_3fa9c1`, to recognise it. */
    prefix: z.string(),
    scope: ApiKeyScope,
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;
export const ApiKeyList = z.object({ keys: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });
/** The only response that ever contains the secret. */
export const CreatedApiKey = z
  .object({ key: ApiKey, secret: z.string().startsWith(API_KEY_PREFIX) })
  .meta({ id: 'CreatedApiKey' });

// ── local mode ─────────────────────────────────────────────────────────────────────────────

export const OutboxMessage = z
  .object({
    id: z.uuid(),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'OutboxMessage' });
export const OutboxList = z.object({ messages: z.array(OutboxMessage) }).meta({ id: 'OutboxList' });
