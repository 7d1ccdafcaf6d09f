import { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.ts';

/**
 * The API reference: Scalar's standalone bundle, pinned to one version and checked by its
 * Subresource Integrity hash, so the CDN can only ever serve exactly this file (a changed or
 * hijacked file is refused by the browser). The page's own policy lets in that script and this
 * response's inline start-up script by nonce, and talks only to this origin.
 * To upgrade: `npm pack @scalar/api-reference@<v>` and
 * `openssl dgst -sha384 -binary package/dist/browser/standalone.js | openssl base64 -A`.
 */
export const SCALAR_VERSION = '1.76.0';
export const SCALAR_SCRIPT = `https://cdn.jsdelivr.net/npm/@scalar/api-reference@${SCALAR_VERSION}/dist/browser/standalone.js`;
export const SCALAR_INTEGRITY = 'sha384-oH1C0RwqcwbVXkC+r8A+4qRoyEUQdtxAzOwumkxZtQBBcsy61FOoPt7B50OVJYYQ';

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

export function docsRoutes(openApiUrl: string) {
  const app = new Hono<AppEnv>();
  app.get('/', (c) => {
    const n = nonce();
    // Scalar injects its styles at run time, so styles need 'unsafe-inline'; scripts do not.
    c.header(
      'Content-Security-Policy',
      [
        "default-src 'none'",
        `script-src 'nonce-${n}'`,
        "style-src 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ].join('; '),
    );
    const config = JSON.stringify({ url: openApiUrl, withDefaultFonts: false }).replaceAll('<', '\\u003c');
    return c.html(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Pulsewire API</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="${SCALAR_SCRIPT}" integrity="${SCALAR_INTEGRITY}" crossorigin="anonymous" nonce="${n}"></script>
    <script nonce="${n}">Scalar.createApiReference('#app', ${config});</script>
  </body>
</html>
`);
  });
  return app;
}
