import { type Role, roleAtLeast } from '@pulsewire/protocol';

/**
 * Who may do what on the alerting pages, in one place. The API decides; these only hide controls a
 * role cannot use. Every member handles alerts as they happen (acknowledge, silence); configuring
 * rules, channels and maintenance windows is for admins and owners, like API keys.
 */
export const alertingPermissions = {
  acknowledge: (role: Role | undefined) => roleAtLeast(role, 'viewer'),
  silence: (role: Role | undefined) => roleAtLeast(role, 'viewer'),
  configure: (role: Role | undefined) => roleAtLeast(role, 'admin'),
};
