import openapiTS, { astToString } from 'openapi-typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string }> };
}

/** The document the running API serves, from the real app (no database needed to describe it). */
async function fetchDocument(): Promise<Document> {
  const res = await createApp().request('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
  );

describe('OpenAPI document', () => {
  let doc: Document;
  let types: string;
  beforeAll(async () => {
    doc = await fetchDocument();
    // openapi-typescript lints the document with Redocly's `minimal` rules first (structure included)
    // and throws on an error, so generating the client is also the 3.1 validation.
    types = astToString(await openapiTS(doc as never, { silent: true }));
  });

  it('is OpenAPI 3.1 and declares the session cookie, read key and host signature schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toMatchObject({
      session: { type: 'apiKey', in: 'cookie' },
      readKey: { type: 'http', scheme: 'bearer' },
      hostSignature: { type: 'apiKey', in: 'header', name: 'x-pulsewire-signature' },
    });
  });

  it('gives every operation, old and new, a security requirement naming declared schemes', () => {
    const all = operations(doc);
    expect(all.length).toBeGreaterThan(50);
    const declared = new Set(Object.keys(doc.components.securitySchemes));
    for (const { key, op } of all) {
      expect(op.security, key).toBeDefined();
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(declared, `${key} names ${scheme}`).toContain(scheme);
      }
    }
    const security = Object.fromEntries(all.map(({ key, op }) => [key, op.security]));
    expect(security['GET /health']).toEqual([]);
    expect(security['POST /ingest']).toEqual([{ hostSignature: [] }]);
    expect(security['GET /rules']).toEqual([{ session: [] }, { readKey: [] }]);
    expect(security['POST /rules']).toEqual([{ session: [] }]);
    expect(security['POST /alerts/{id}/ack']).toEqual([{ session: [] }]);
    expect(security['GET /organizations']).toEqual([{ session: [] }]);
  });

  it('refers to named schemas instead of repeating them inline', () => {
    for (const name of [
      'Rule',
      'RuleInput',
      'Channel',
      'ChannelInput',
      'Alert',
      'Silence',
      'ApiErrorBody',
      'HostList',
    ]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    const byKey = Object.fromEntries(operations(doc).map(({ key, op }) => [key, op]));
    expect(byKey['POST /rules']?.requestBody?.content['application/json']?.schema.$ref).toBe(
      '#/components/schemas/RuleInput',
    );
    expect(byKey['GET /rules/{id}']?.responses['200']?.content?.['application/json']?.schema.$ref).toBe(
      '#/components/schemas/Rule',
    );
    expect(byKey['GET /hosts']?.responses['200']?.content?.['application/json']?.schema.$ref).toBe(
      '#/components/schemas/HostList',
    );
  });

  it('generates a typed client with named component types', () => {
    for (const name of ['Rule', 'RuleInput', 'Channel', 'Alert', 'AlertList', 'Silence', 'MaintenanceWindow']) {
      expect(types, name).toMatch(new RegExp(`\\n\\s+${name}: \\{`));
    }
    expect(types).toContain('components["schemas"]["Rule"]');
    expect(types).toContain('components["schemas"]["ApiErrorBody"]');
  });
});
