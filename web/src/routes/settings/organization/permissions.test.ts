import { describe, expect, it } from 'vitest';
import { isLastOwner, memberPermissions } from './permissions.ts';

const owner = { userId: 'u-owner', role: 'owner' as const };
const admin = { userId: 'u-admin', role: 'admin' as const };
const viewer = { userId: 'u-viewer', role: 'viewer' as const };
const otherOwner = { userId: 'u-owner-2', role: 'owner' as const };

describe('memberPermissions', () => {
  it('lets owners give any role and remove anyone else', () => {
    expect(memberPermissions(owner, admin)).toEqual({
      roleOptions: ['owner', 'admin', 'viewer'],
      canRemove: true,
      isSelf: false,
    });
    expect(memberPermissions(owner, otherOwner).canRemove).toBe(true);
  });

  it('lets admins manage admins and viewers but not owners', () => {
    expect(memberPermissions(admin, viewer)).toEqual({
      roleOptions: ['admin', 'viewer'],
      canRemove: true,
      isSelf: false,
    });
    expect(memberPermissions(admin, owner)).toEqual({ roleOptions: [], canRemove: false, isSelf: false });
  });

  it('gives viewers nothing to change', () => {
    expect(memberPermissions(viewer, owner)).toEqual({ roleOptions: [], canRemove: false, isSelf: false });
    expect(memberPermissions(viewer, admin)).toEqual({ roleOptions: [], canRemove: false, isSelf: false });
  });

  it('never offers to edit or remove yourself: you leave instead', () => {
    for (const actor of [owner, admin, viewer]) {
      expect(memberPermissions(actor, actor)).toEqual({ roleOptions: [], canRemove: false, isSelf: true });
    }
  });
});

describe('isLastOwner', () => {
  it('is true only for the single owner', () => {
    expect(isLastOwner([owner, admin, viewer], owner.userId)).toBe(true);
    expect(isLastOwner([owner, otherOwner, viewer], owner.userId)).toBe(false);
    expect(isLastOwner([owner, admin], admin.userId)).toBe(false);
  });
});
