import { describe, expect, it } from 'vitest';
import { constantTimeEqual, hashPassword, needsRehash, PBKDF2_ITERATIONS, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('stores a versioned PBKDF2-SHA-256 hash with a per-user salt', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^pbkdf2-sha256\\$${PBKDF2_ITERATIONS}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('verifies the right password and rejects others', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('rejects malformed or foreign hash strings instead of throwing', async () => {
    expect(await verifyPassword('x', 'bcrypt$10$abc$def')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2-sha256$999999999$abc$def')).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });

  it('flags hashes below the current cost for upgrade', () => {
    expect(needsRehash(`pbkdf2-sha256$1000$a$b`)).toBe(true);
    expect(needsRehash(`pbkdf2-sha256$${PBKDF2_ITERATIONS}$a$b`)).toBe(false);
  });

  it('compares byte arrays by content only', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });
});
