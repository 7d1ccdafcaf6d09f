import { secureHeaders } from 'hono/secure-headers';

/**
 * Security headers on every response the Worker makes (the API, its errors, the API reference).
 * API responses are data, never documents: their policy lets them load nothing and be framed
 * nowhere. A handler that renders a page sets its own Content-Security-Policy, which is kept.
 * The dashboard's static files get theirs from `web/static/_headers` and SvelteKit's CSP.
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
  strictTransportSecurity: 'max-age=31536000; includeSubDomains',
  permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [], usb: [] },
  overwrite: false,
});
