import type { Role } from '@pulsewire/protocol';

export interface Actor {
  userId: string;
  role: Role;
}

export interface MemberLike {
  userId: string;
  role: Role;
}

/** What the signed-in member may do to one row of the members table; mirrors the API's rules. */
export interface MemberPermissions {
  /** Roles the actor may give this member; empty when the role is read-only to them. */
  roleOptions: Role[];
  /** May remove this member (someone else). */
  canRemove: boolean;
  /** This row is the actor: they may leave. */
  isSelf: boolean;
}

/**
 * Admins manage admins and viewers; only owners touch owners or make someone owner. Nobody edits
 * their own role here (demoting yourself by accident locks you out), and leaving is its own button.
 */
export function memberPermissions(actor: Actor, member: MemberLike): MemberPermissions {
  const isSelf = actor.userId === member.userId;
  const isOwner = actor.role === 'owner';
  const isAdmin = isOwner || actor.role === 'admin';
  let roleOptions: Role[] = [];
  if (!isSelf && isAdmin) {
    if (isOwner) roleOptions = ['owner', 'admin', 'viewer'];
    else if (member.role !== 'owner') roleOptions = ['admin', 'viewer'];
  }
  return { roleOptions, canRemove: !isSelf && isAdmin && (member.role !== 'owner' || isOwner), isSelf };
}

/** Whether `userId` is the only owner among `members`: the API refuses to let them leave or be demoted. */
export function isLastOwner(members: readonly MemberLike[], userId: string): boolean {
  const owners = members.filter((m) => m.role === 'owner');
  return owners.length === 1 && owners[0]?.userId === userId;
}

export const roleDescriptions: Record<Role, string> = {
  owner: 'Everything, including deleting the organisation and managing owners',
  admin: 'Manage members, invitations, API keys and settings',
  viewer: 'See hosts, dashboards and alerts; change nothing',
};
