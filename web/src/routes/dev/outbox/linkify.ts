/** A run of plain text, or a link found in it. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string; internal: boolean };

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
/** Punctuation that ends a sentence rather than a URL: `…see https://x.io/a.` */
const TRAILING = /[.,;:!?)\]}]+$/;

/**
 * Splits a plain-text e-mail into text and links. Links to `origin` (this dashboard) become
 * path-only hrefs, so following them stays inside the SPA and keeps the session.
 */
export function linkify(text: string, origin: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    let url = match[0];
    const trailing = TRAILING.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trailing.length);
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    let href = url;
    let internal = false;
    try {
      const parsed = new URL(url);
      if (parsed.origin === origin) {
        href = `${parsed.pathname}${parsed.search}${parsed.hash}`;
        internal = true;
      }
    } catch {
      // Not a URL after all: keep it as text.
      parts.push({ kind: 'text', text: url });
      last = start + url.length;
      continue;
    }
    parts.push({ kind: 'link', text: url, href, internal });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  // Merge neighbouring text runs (a trailing "." becomes part of the next run).
  return parts.reduce<TextPart[]>((out, part) => {
    const prev = out.at(-1);
    if (prev?.kind === 'text' && part.kind === 'text') prev.text += part.text;
    else out.push({ ...part });
    return out;
  }, []);
}
