import { z } from 'zod';

/** `:id` path parameters; a malformed one answers 404 like an unknown one (see validationHook). */
export const IdParam = z.object({ id: z.uuid() });
