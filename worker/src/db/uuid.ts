const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids in `uuid` columns: Postgres rejects anything else in a comparison, so check before querying. */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}
