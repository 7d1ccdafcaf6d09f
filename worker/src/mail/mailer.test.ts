import { ApiErrorBody } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { TestClient, uniqueEmail } from '../../test/client.ts';
import { baseEnv, isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

interface Received {
  apiKey: string;
  body: { from: string; to: string[]; subject: string; html: string; text: string };
}

async function receivedBy(to: string): Promise<Received[]> {
  const res = await fetch(`${baseEnv.FAKE_RESEND_URL}/_received`);
  const { emails } = (await res.json()) as { emails: Received[] };
  return emails.filter((e) => e.body.to.includes(to));
}

describe('account mail through the Resend SDK (production mode, fake Resend API)', () => {
  let env: Env;
  beforeAll(async () => {
    env = {
      ...(await isolatedEnv()),
      PULSEWIRE_MODE: 'production',
      RESEND_API_KEY: 're_test_pulsewire',
      RESEND_BASE_URL: baseEnv.FAKE_RESEND_URL,
      MAIL_FROM: 'Pulsewire <alerts@pulsewire.test>',
      PUBLIC_URL: 'https://app.pulsewire.test',
    };
  });

  it('sends the verification mail with the key, sender and a working link', async () => {
    const email = uniqueEmail('resend');
    const res = await new TestClient(env).post('/api/v1/auth/signup', { email, password: 'correct horse battery' });
    expect(res.status).toBe(201);
    const [mail] = await receivedBy(email);
    expect(mail?.apiKey).toBe('re_test_pulsewire');
    expect(mail?.body.from).toBe('Pulsewire <alerts@pulsewire.test>');
    expect(mail?.body.subject).toMatch(/verify/i);
    const token = /https:\/\/app\.pulsewire\.test\/verify\?token=([\w-]+)/.exec(mail?.body.text ?? '')?.[1];
    expect(token).toBeTruthy();
    expect(mail?.body.html).toContain(`/verify?token=${token}`);
    const verify = await new TestClient(env).post('/api/v1/auth/verify', { token });
    expect(verify.status).toBe(200);
  });

  it('leaves no account behind when the verification mail cannot be sent, and logs no address', async () => {
    // Sign-up answers before it touches the address (the same for every address), so a failed send
    // is not the caller's answer: the account, its organisation and its link are rolled back with it.
    const email = uniqueEmail('bounce');
    const password = 'correct horse battery';
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => logged.push(line));
    const signup = await new TestClient(env).post('/api/v1/auth/signup', { email, password });
    spy.mockRestore();
    expect(signup.status).toBe(201);
    expect(logged.some((line) => line.includes('mail delivery failed') && line.includes('verify_email'))).toBe(true);
    expect(logged.some((line) => line.includes('deferred work failed') && line.includes('"kind":"signup"'))).toBe(true);
    expect(logged.join('\n')).not.toContain(email.split('@')[0]);
    const login = await new TestClient(env).post('/api/v1/auth/login', { email, password });
    expect(login.status).toBe(401);
    expect(ApiErrorBody.parse(await login.json()).error.code).toBe('invalid_credentials');
  });

  it('has no dev outbox outside local mode', async () => {
    const res = await new TestClient(env).get('/api/v1/dev/outbox');
    expect(res.status).toBe(404);
  });

  it('refuses to drop mail silently in production without a Resend key: logged, nothing kept', async () => {
    const { RESEND_API_KEY: _key, ...withoutKey } = env;
    const email = uniqueEmail('nokey');
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => logged.push(line));
    const res = await new TestClient(withoutKey as Env).post('/api/v1/auth/signup', {
      email,
      password: 'correct horse battery',
    });
    spy.mockRestore();
    expect(res.status).toBe(201);
    expect(logged.some((line) => line.includes('RESEND_API_KEY is not configured'))).toBe(true);
    const login = await new TestClient(env).post('/api/v1/auth/login', { email, password: 'correct horse battery' });
    expect(login.status).toBe(401);
  });
});
