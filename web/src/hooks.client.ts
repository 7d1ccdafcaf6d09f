import { z } from 'zod';

// zod compiles fast parsers with `new Function` unless told not to, and first probes whether it may:
// under the dashboard's CSP (no 'unsafe-eval') that probe is a policy violation on every load.
// The interpreted parsers are plenty fast for API responses and live frames.
z.config({ jitless: true });
