import { isApiError } from '#lib/api/client.ts';

/**
 * What the invitation page shows. The API has no "describe this invitation" route, so a signed-out
 * visitor's page asks `POST /invitations/accept` with the token alone: without a session that never
 * changes anything, and its refusal says which form fits — a password is needed (no account yet) or
 * the address already has an account (sign in first).
 */
export type AcceptView =
  | { kind: 'checking' }
  | { kind: 'create' }
  | { kind: 'sign-in'; message: string }
  | { kind: 'join' }
  | { kind: 'mismatch'; message: string }
  | { kind: 'invalid'; code: string; message: string }
  | { kind: 'error'; message: string };

const LINK_CODES = new Set(['token_invalid', 'token_used', 'token_expired', 'invitation_revoked']);

/** Headline for a dead invitation link, by code. */
export function invalidTitle(code: string): string {
  switch (code) {
    case 'token_used':
      return 'This invitation was already accepted';
    case 'token_expired':
      return 'This invitation has expired';
    case 'invitation_revoked':
      return 'This invitation was withdrawn';
    default:
      return 'This invitation link is not valid';
  }
}

/** The view after an accept call (probe or real) failed with `error`. */
export function viewForAcceptError(error: unknown): AcceptView {
  if (!isApiError(error)) return { kind: 'error', message: String(error) };
  const code = String(error.code);
  if (LINK_CODES.has(code)) return { kind: 'invalid', code, message: error.message };
  if (code === 'sign_in_required') return { kind: 'sign-in', message: error.message };
  if (code === 'invitation_email_mismatch') return { kind: 'mismatch', message: error.message };
  if (code === 'validation_failed' && error.path === 'json.password') return { kind: 'create' };
  return { kind: 'error', message: error.message };
}
