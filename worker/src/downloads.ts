import { Hono } from 'hono';
import { downloadKey, EXECUTABLE_FILE } from './download-files.ts';
import type { AppEnv } from './http/app-env.ts';
import { HttpError, notFound } from './http/errors.ts';
import { APP_VERSION } from './version.ts';

/**
 * The self-contained agent executables and their checksums. A static asset may be 25 MiB at most and an
 * executable is ~105 MiB, so they live in the DOWNLOADS R2 bucket (wrangler.toml), uploaded by
 * `pnpm deploy` (agent/scripts/publish-executables.ts) under this deployment's version (download-files.ts).
 * (`pulsewire-agent.mjs`, 1 MB, stays a static asset.)
 */
export const downloadRoutes = new Hono<AppEnv>();

downloadRoutes.on(['GET', 'HEAD'], '/:file', async (c) => {
  const file = c.req.param('file');
  if (!EXECUTABLE_FILE.test(file)) throw notFound(`No download named ${file}`);
  const key = downloadKey(file, APP_VERSION);
  const missing = () =>
    new HttpError(404, 'not_published', `${file} was not uploaded with this deployment (${APP_VERSION})`);
  const headersOf = (object: R2Object) => {
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set('ETag', object.httpEtag);
    headers.set('Accept-Ranges', 'bytes');
    headers.set('Cache-Control', 'no-cache');
    if (file.endsWith('.sha256')) {
      headers.set('Content-Type', 'text/plain; charset=utf-8');
    } else {
      headers.set('Content-Type', 'application/octet-stream');
      headers.set('Content-Disposition', `attachment; filename="${file}"`);
    }
    return headers;
  };
  if (c.req.method === 'HEAD') {
    const object = await c.env.DOWNLOADS?.head(key);
    if (!object) throw missing();
    const headers = headersOf(object);
    headers.set('Content-Length', String(object.size));
    return new Response(null, { status: 200, headers });
  }
  // R2 answers a failed If-None-Match/If-Match with the object's metadata and no body, and honours Range.
  const object = await c.env.DOWNLOADS?.get(key, { onlyIf: c.req.raw.headers, range: c.req.raw.headers });
  if (!object) throw missing();
  const headers = headersOf(object);
  if (!('body' in object)) return new Response(null, { status: 304, headers });
  const body = (object as R2ObjectBody).body;
  const range = object.range as { offset?: number; length?: number } | undefined;
  if (range && c.req.header('Range')) {
    const offset = range.offset ?? 0;
    const length = range.length ?? object.size - offset;
    headers.set('Content-Range', `bytes ${offset}-${offset + length - 1}/${object.size}`);
    headers.set('Content-Length', String(length));
    return new Response(body, { status: 206, headers });
  }
  headers.set('Content-Length', String(object.size));
  return new Response(body, { status: 200, headers });
});
