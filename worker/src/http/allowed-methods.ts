interface RouteEntry {
  method: string;
  path: string;
}

const patternCache = new Map<string, RegExp>();

/** Turns a Hono path pattern (`/hosts/:id`, `/files/*`) into an anchored regular expression. */
function compile(pattern: string): RegExp {
  let regex = patternCache.get(pattern);
  if (!regex) {
    const source = pattern
      .split('/')
      .map((segment) => {
        if (segment === '*') return '.*';
        const param = /^:\w+(?:\{(.+)\})?(\?)?$/.exec(segment);
        if (param) return param[1] ? `(?:${param[1]})` : '[^/]+';
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    regex = new RegExp(`^${source}/?$`);
    patternCache.set(pattern, regex);
  }
  return regex;
}

/**
 * The methods registered for a path. Used to tell "wrong method" (405 with `Allow`) apart from
 * "no such route" (404), which Hono's router does not distinguish by itself.
 */
export function allowedMethods(routes: readonly RouteEntry[], pathname: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || route.path.endsWith('*')) continue;
    if (compile(route.path).test(pathname)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
