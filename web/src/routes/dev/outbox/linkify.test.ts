import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.ts';

const origin = 'http://127.0.0.1:8787';

describe('linkify', () => {
  it('turns links to this dashboard into in-app paths', () => {
    const parts = linkify(`Verify e-mail: ${origin}/verify?token=abc_DEF-123\n\nThanks`, origin);
    expect(parts).toEqual([
      { kind: 'text', text: 'Verify e-mail: ' },
      { kind: 'link', text: `${origin}/verify?token=abc_DEF-123`, href: '/verify?token=abc_DEF-123', internal: true },
      { kind: 'text', text: '\n\nThanks' },
    ]);
  });

  it('keeps links elsewhere absolute and marks them external', () => {
    const parts = linkify('Docs at https://docs.example.com/agent and more', origin);
    expect(parts[1]).toEqual({
      kind: 'link',
      text: 'https://docs.example.com/agent',
      href: 'https://docs.example.com/agent',
      internal: false,
    });
  });

  it('leaves sentence punctuation out of the link', () => {
    const parts = linkify(`Open ${origin}/login.`, origin);
    expect(parts).toEqual([
      { kind: 'text', text: 'Open ' },
      { kind: 'link', text: `${origin}/login`, href: '/login', internal: true },
      { kind: 'text', text: '.' },
    ]);
  });

  it('returns plain text untouched and reassembles to the original', () => {
    const text = `a ${origin}/x, b https://y.example/z) c`;
    expect(
      linkify(text, origin)
        .map((p) => p.text)
        .join(''),
    ).toBe(text);
    expect(linkify('no links here', origin)).toEqual([{ kind: 'text', text: 'no links here' }]);
    expect(linkify('', origin)).toEqual([]);
  });

  it('does not treat another port on the same host as this dashboard', () => {
    const [, link] = linkify('see http://127.0.0.1:9999/verify?token=x', origin);
    expect(link).toMatchObject({ internal: false, href: 'http://127.0.0.1:9999/verify?token=x' });
  });
});
