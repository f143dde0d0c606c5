import { z } from 'zod';
import type { Route, RouteResponse } from './route.ts';

type Json = Record<string, unknown>;

/** Operations the route table does not hold (the webhook and the WebSocket), described by hand. */
export interface ExtraOperation {
  method: 'get' | 'post' | 'delete';
  path: string;
  operation: Json;
  /** Named schemas the operation refers to as #/components/schemas/<id>. */
  schemas?: { input?: z.ZodType[]; output?: z.ZodType[] };
}

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

/**
 * GET /v1/openapi.json: OpenAPI 3.1 built from the zod schemas the routes validate with.
 * Schemas with a meta id (Build, Service, Error…) become components; request bodies are
 * described as accepted (defaults optional), responses as sent.
 */
export function openApiDocument(routes: readonly Route[], extras: readonly ExtraOperation[], version: string): Json {
  const inputs = z.registry<{ id: string }>();
  const outputs = z.registry<{ id: string }>();
  const named = (schema: z.ZodType, registry: typeof inputs): Json | null => {
    const id = z.globalRegistry.get(schema)?.id;
    if (id === undefined) return null;
    if (!registry.has(schema)) registry.add(schema, { id });
    return ref(id);
  };
  const inline = (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    return rest;
  };
  const describe = (schema: z.ZodType, io: 'input' | 'output'): Json => named(schema, io === 'input' ? inputs : outputs) ?? inline(schema, io);

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...objectProperties(route.params).map(([name, schema]) => ({ name, in: 'path', required: true, schema: inline(schema, 'input') })),
      ...objectProperties(route.query).map(([name, schema]) => ({ name, in: 'query', required: false, schema: inline(schema, 'input') })),
    ];
    const operation: Json = {
      summary: route.summary,
      ...(route.scope === null ? { security: [] } : { security: [{ bearer: [route.scope] }], 'x-fleetcast-scope': route.scope }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: describe(route.body, 'input') } } } } : {}),
      responses: Object.fromEntries(Object.entries(route.responses).map(([status, response]) => [status, describeResponse(response, describe)])),
    };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  for (const extra of extras) {
    for (const schema of extra.schemas?.input ?? []) named(schema, inputs);
    for (const schema of extra.schemas?.output ?? []) named(schema, outputs);
    (paths[extra.path] ??= {})[extra.method] = extra.operation;
  }

  const components = (registry: typeof inputs, io: 'input' | 'output'): Json => {
    const { schemas } = z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    });
    // Named schemas reached only through another one (Wave inside Deployment) land in zod's
    // `__shared` $defs: make them components of their own, referred to like the others.
    const { __shared: shared, ...own } = schemas as Record<string, Json>;
    const hoisted = { ...own, ...((shared?.$defs as Record<string, Json> | undefined) ?? {}) };
    const text = JSON.stringify(
      Object.fromEntries(
        Object.entries(hoisted).map(([id, schema]) => {
          const { $schema: _, $id: __, ...rest } = schema;
          return [id, rest];
        }),
      ),
    );
    return JSON.parse(text.replaceAll('#/components/schemas/__shared#/$defs/', '#/components/schemas/').replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'fleetcast coordinator API',
      version,
      description:
        'Builds, services and events of a fleetcast installation. Send `Authorization: Bearer <token>`; ' +
        'scopes: read < build < deploy < admin (each implies the ones before it). Every refusal has the body ' +
        '`{ "error": { "code", "message", "details" } }`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token: <data dir>/api-token, or one from the permissions file' } },
      schemas: { ...components(inputs, 'input'), ...components(outputs, 'output') },
    },
    paths,
  };
}

function describeResponse(response: RouteResponse, describe: (schema: z.ZodType, io: 'output') => Json): Json {
  const contentType = response.contentType ?? 'application/json';
  return {
    description: response.description,
    ...(response.headers
      ? { headers: Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }
      : {}),
    content: {
      [contentType]: { schema: response.schema ? describe(response.schema, 'output') : { type: contentType === 'application/json' ? 'object' : 'string' } },
    },
  };
}

function objectProperties(schema: z.ZodType | undefined): [string, z.ZodType][] {
  if (schema === undefined || !(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>);
}
