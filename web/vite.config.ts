import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

/** Where `vite dev` forwards `/api/*`; the built SPA is served by the Worker on the API's own origin. */
const apiTarget = process.env.PULSEWIRE_API_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [
    tailwindcss(),
    sveltekit({
      // Static SPA: every route falls back to index.html, which the Worker serves for unknown paths.
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
      // The static index.html carries this policy as a meta tag, with the hash of SvelteKit's inline
      // start-up script: scripts come only from this origin. Svelte writes inline style attributes,
      // hence 'unsafe-inline' for styles. static/_headers adds what a meta policy cannot (frame-ancestors).
      csp: {
        mode: 'hash',
        directives: {
          'default-src': ['self'],
          'script-src': ['self'],
          'style-src': ['self', 'unsafe-inline'],
          'img-src': ['self', 'data:', 'blob:'],
          'font-src': ['self', 'data:'],
          'connect-src': ['self'],
          'object-src': ['none'],
          'base-uri': ['self'],
          'form-action': ['self'],
        },
      },
    }),
  ],
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: true, ws: true },
    },
  },
});
