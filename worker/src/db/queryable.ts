import type { drizzle } from 'drizzle-orm/neon-serverless';

/**
 * The query handle types, apart from client.ts so that plain modules (history, scripts run by Node) can name
 * them without pulling in the Worker's environment.
 */
export type Database = ReturnType<typeof drizzle>;
/** A transaction handle, usable wherever a query runs. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Queryable = Database | Transaction;
