import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allowed-methods.ts';

const routes = [
  { method: 'ALL', path: '*' },
  { method: 'GET', path: '/api/v1/hosts' },
  { method: 'POST', path: '/api/v1/hosts' },
  { method: 'GET', path: '/api/v1/hosts/:id' },
  { method: 'DELETE', path: '/api/v1/hosts/:id' },
  { method: 'GET', path: '/api/v1/files/:name{[a-z]+\\.txt}' },
];

describe('allowedMethods', () => {
  it('lists every method of a matching pattern, with HEAD implied by GET', () => {
    expect(allowedMethods(routes, '/api/v1/hosts')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(routes, '/api/v1/hosts/42')).toEqual(['DELETE', 'GET', 'HEAD']);
  });

  it('tolerates a trailing slash but not extra segments', () => {
    expect(allowedMethods(routes, '/api/v1/hosts/')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(routes, '/api/v1/hosts/42/samples')).toEqual([]);
  });

  it('honours regex-constrained parameters', () => {
    expect(allowedMethods(routes, '/api/v1/files/readme.txt')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(routes, '/api/v1/files/README.md')).toEqual([]);
  });

  it('ignores catch-all middleware entries', () => {
    expect(allowedMethods(routes, '/anything')).toEqual([]);
  });
});
