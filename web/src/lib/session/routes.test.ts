import { describe, expect, it } from 'vitest';
import { HOME_PATH, isAuthPage, loginPath, safeNext } from './routes.ts';

const url = (href: string) => new URL(href, 'http://127.0.0.1:8787');

describe('loginPath', () => {
  it('sends a signed-out visitor to /login with the page they wanted as next', () => {
    expect(loginPath(url('/settings/api-keys'))).toBe('/login?next=%2Fsettings%2Fapi-keys');
  });

  it('keeps the query string and hash of the page', () => {
    expect(loginPath(url('/settings/organization?tab=invites#pending'))).toBe(
      `/login?next=${encodeURIComponent('/settings/organization?tab=invites#pending')}`,
    );
  });

  it('adds no next for the root or for auth pages themselves', () => {
    expect(loginPath(url('/'))).toBe('/login');
    expect(loginPath(url('/login?next=%2Fx'))).toBe('/login');
  });
});

describe('safeNext', () => {
  it('follows paths on this origin', () => {
    expect(safeNext('/settings/api-keys')).toBe('/settings/api-keys');
    expect(safeNext('/settings/organization?x=1#y')).toBe('/settings/organization?x=1#y');
    expect(safeNext('/invitations/accept?token=abc')).toBe('/invitations/accept?token=abc');
  });

  it('falls back to the home page without a next', () => {
    expect(safeNext(null)).toBe(HOME_PATH);
    expect(safeNext(undefined)).toBe(HOME_PATH);
    expect(safeNext('')).toBe(HOME_PATH);
  });

  it('refuses anything that leaves the origin (open redirects)', () => {
    for (const next of [
      'https://evil.example/',
      '//evil.example/path',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      '/%0a//evil.example',
      '/\t/evil.example',
      'settings',
    ]) {
      const target = safeNext(next);
      expect(target.startsWith('/'), next).toBe(true);
      expect(new URL(target, 'http://pulsewire.test').origin, next).toBe('http://pulsewire.test');
    }
    expect(safeNext('//evil.example/path')).toBe(HOME_PATH);
    expect(safeNext('/\t/evil.example')).toBe(HOME_PATH);
  });

  it('does not loop back to sign-in or sign-up', () => {
    expect(safeNext('/login')).toBe(HOME_PATH);
    expect(safeNext('/signup?x=1')).toBe(HOME_PATH);
  });
});

describe('isAuthPage', () => {
  it('recognises the signed-out pages, with or without a trailing slash', () => {
    for (const p of ['/login', '/signup', '/verify', '/forgot-password', '/reset-password', '/invitations/accept/']) {
      expect(isAuthPage(p), p).toBe(true);
    }
  });

  it('leaves dashboard pages alone', () => {
    for (const p of ['/status', '/settings/account', '/dev/outbox', '/loginx', '/invitations']) {
      expect(isAuthPage(p), p).toBe(false);
    }
  });
});
