/** Up to two letters for an avatar: `Ada Lovelace` → `AL`, `ops@example.com` → `O`. */
export function initials(nameOrEmail: string): string {
  const base = nameOrEmail.includes('@') ? (nameOrEmail.split('@')[0] ?? '') : nameOrEmail;
  const words = base
    .split(/[\s._-]+/)
    .map((w) => w.trim())
    .filter(Boolean);
  if (nameOrEmail.includes('@')) return (words[0]?.[0] ?? '?').toUpperCase();
  const letters = words.length > 1 ? `${words[0]?.[0] ?? ''}${words.at(-1)?.[0] ?? ''}` : (words[0]?.[0] ?? '?');
  return letters.toUpperCase();
}
