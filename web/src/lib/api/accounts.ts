import {
  AcceptedResponse,
  ApiKeyList,
  CreatedApiKey,
  InvitationList,
  MemberList,
  MeResponse,
  OutboxList,
  type Role,
} from '@pulsewire/protocol';
import type { z } from 'zod';
import { apiGet, apiSend } from './client.ts';

/**
 * The account side of the API: sessions, organisations, members, invitations, API keys and the
 * local dev outbox. Thin wrappers over {@link apiGet}/{@link apiSend} with the protocol's schemas.
 */

export type Me = z.infer<typeof MeResponse>;
export type Member = z.infer<typeof MemberList>['members'][number];
export type Invitation = z.infer<typeof InvitationList>['invitations'][number];
export type ApiKey = z.infer<typeof ApiKeyList>['keys'][number];
export type CreatedKey = z.infer<typeof CreatedApiKey>;
export type OutboxMessage = z.infer<typeof OutboxList>['messages'][number];
export type Accepted = z.infer<typeof AcceptedResponse>;

const Invitation = InvitationList.shape.invitations.element;

export const auth = {
  signup: (body: { email: string; password: string; name?: string; organizationName?: string }) =>
    apiSend('POST', '/auth/signup', body, AcceptedResponse),
  login: (body: { email: string; password: string }) => apiSend('POST', '/auth/login', body, MeResponse),
  logout: () => apiSend('POST', '/auth/logout', undefined, AcceptedResponse),
  logoutAll: () => apiSend('POST', '/auth/logout-all', undefined, AcceptedResponse),
  verify: (token: string) => apiSend('POST', '/auth/verify', { token }, AcceptedResponse),
  resendVerification: () => apiSend('POST', '/auth/verify/resend', undefined, AcceptedResponse),
  forgotPassword: (email: string) => apiSend('POST', '/auth/password/forgot', { email }, AcceptedResponse),
  resetPassword: (token: string, password: string) =>
    apiSend('POST', '/auth/password/reset', { token, password }, MeResponse),
  changePassword: (body: { currentPassword: string; newPassword: string }) =>
    apiSend('POST', '/auth/password/change', body, AcceptedResponse),
  changeEmail: (body: { newEmail: string; password: string }) =>
    apiSend('POST', '/auth/email/change', body, AcceptedResponse),
  me: (signal?: AbortSignal) => apiGet('/me', MeResponse, signal ? { signal } : undefined),
};

export const organizations = {
  create: (name: string) => apiSend('POST', '/organizations', { name }, MeResponse),
  switchTo: (organizationId: string) => apiSend('POST', '/organizations/switch', { organizationId }, MeResponse),
  deleteCurrent: () => apiSend('DELETE', '/organizations/current', undefined, AcceptedResponse),
};

export const members = {
  list: () => apiGet('/members', MemberList),
  setRole: (userId: string, role: Role) =>
    apiSend('PATCH', `/members/${encodeURIComponent(userId)}`, { role }, AcceptedResponse),
  remove: (userId: string) => apiSend('DELETE', `/members/${encodeURIComponent(userId)}`, undefined, AcceptedResponse),
};

export const invitations = {
  list: () => apiGet('/invitations', InvitationList),
  create: (body: { email: string; role: 'admin' | 'viewer' }) => apiSend('POST', '/invitations', body, Invitation),
  revoke: (id: string) => apiSend('DELETE', `/invitations/${encodeURIComponent(id)}`, undefined, AcceptedResponse),
  accept: (body: { token: string; password?: string; name?: string }) =>
    apiSend('POST', '/invitations/accept', body, MeResponse),
};

export const keys = {
  list: () => apiGet('/keys', ApiKeyList),
  create: (body: { name: string; scope: 'ingest' | 'read' }) => apiSend('POST', '/keys', body, CreatedApiKey),
  revoke: (id: string) => apiSend('DELETE', `/keys/${encodeURIComponent(id)}`, undefined, AcceptedResponse),
};

export const devOutbox = {
  list: () => apiGet('/dev/outbox', OutboxList),
};
