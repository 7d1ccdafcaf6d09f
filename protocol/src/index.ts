export * from './accounts.ts';
export * from './errors.ts';
export * from './health.ts';
export * from './history.ts';
export * from './hosts.ts';
export * from './ingest.ts';
export * from './signing.ts';
export * from './stream.ts';
