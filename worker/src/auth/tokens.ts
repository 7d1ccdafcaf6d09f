import { sha256Hex as sha256OfBytes, toBase64Url } from '@pulsewire/protocol';

/** 32 random bytes, base64url: session cookies, e-mailed links, API key secrets. */
export function randomToken(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** What the database stores instead of a secret: its SHA-256, hex. */
export function sha256Hex(text: string): Promise<string> {
  return sha256OfBytes(new Uint8Array(new TextEncoder().encode(text)));
}
