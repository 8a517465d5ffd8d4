import type { ApiResponseSchemaHost } from '@nestjs/swagger';

/** @nestjs/swagger's schema type (it does not export the name). */
export type SchemaObject = ApiResponseSchemaHost['schema'];

/** Response shapes for the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const nullableUuid: SchemaObject = { type: ['string', 'null'], format: 'uuid' };
const timestamp: SchemaObject = { type: 'string', format: 'date-time' };
const position: SchemaObject = {
  type: ['string', 'null'],
  description: 'Log position of the write (opaque); send it back as Min-Position to read your own write',
};
const revision: SchemaObject = {
  type: 'integer',
  minimum: 0,
  description: "The tenant stream's revision (also the ETag)",
};
const deletion: SchemaObject = {
  type: 'object',
  properties: { deleted: { type: 'integer' }, total: { type: 'integer' } },
  required: ['deleted', 'total'],
};

export const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details; branch on `code`',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description:
        'VALIDATION_FAILED: each field at fault, by its path (`checks.1.principal.id`) or header name',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
    currentRevision: {
      type: ['integer', 'null'],
      description: 'REVISION_MISMATCH: the revision the resource is at now (null: it has none yet)',
    },
    quota: { type: 'string', description: 'QUOTA_EXCEEDED: the quota the change would exceed' },
    limit: {
      type: 'integer',
      description:
        "QUOTA_EXCEEDED: the quota's limit; API_KEY_LIMIT_REACHED: the most active keys a tenant holds",
    },
    current: {
      type: 'integer',
      description:
        'QUOTA_EXCEEDED: the count now (maxDepth: the depth the change would reach); API_KEY_LIMIT_REACHED: the active keys now',
    },
  },
  required: ['type', 'title', 'status', 'code'],
};

export const TENANT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    name: { type: 'string' },
    status: { type: 'string', enum: ['active', 'suspended', 'deleting', 'deleted'] },
    suspension: {
      type: 'object',
      description: 'While suspended',
      properties: { reason: { type: 'string' }, since: timestamp },
      required: ['reason', 'since'],
    },
    rootWorkspaceId: nullableUuid,
    workspaceCount: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
    revision,
    deletion,
  },
  required: [
    'tenantId',
    'name',
    'status',
    'rootWorkspaceId',
    'workspaceCount',
    'createdAt',
    'updatedAt',
    'revision',
  ],
};

export const WORKSPACE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    workspaceId: uuid,
    tenantId: uuid,
    parentWorkspaceId: nullableUuid,
    name: { type: 'string' },
    isRoot: { type: 'boolean' },
    depth: { type: 'integer' },
    path: { type: 'array', items: uuid, description: 'Workspace ids from the root down to this one' },
    childCount: { type: 'integer' },
    status: { type: 'string', enum: ['live', 'deleting'] },
    createdAt: timestamp,
    updatedAt: timestamp,
    revision,
    deletion,
  },
  required: [
    'workspaceId',
    'tenantId',
    'parentWorkspaceId',
    'name',
    'isRoot',
    'depth',
    'path',
    'childCount',
    'status',
    'revision',
  ],
};

export const pageOf = (item: SchemaObject): SchemaObject => ({
  type: 'object',
  properties: {
    items: { type: 'array', items: item },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page' },
  },
  required: ['items', 'nextCursor'],
});

export const TENANT_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    name: { type: 'string' },
    status: { type: 'string' },
    rootWorkspaceId: {
      ...uuid,
      description:
        'The root workspace, created right after the tenant; a workspace, key or grant naming it before then creates it',
    },
    revision,
    position,
  },
  required: ['tenantId', 'revision', 'position'],
};

export const WORKSPACE_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    workspaceId: uuid,
    parentWorkspaceId: nullableUuid,
    name: { type: 'string' },
    status: { type: 'string' },
    revision,
    position,
  },
  required: ['tenantId', 'workspaceId', 'revision', 'position'],
};

export const API_KEY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    apiKeyId: uuid,
    role: { type: 'string', enum: ['admin', 'reader'] },
    workspaceId: nullableUuid,
    name: { type: ['string', 'null'] },
    createdAt: timestamp,
    status: { type: 'string', enum: ['active', 'revoked'] },
  },
  required: ['apiKeyId', 'role', 'workspaceId'],
};

export const ISSUED_API_KEY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    ...API_KEY_SCHEMA.properties,
    secret: { type: 'string', description: 'Shown once: only a hash is stored' },
    revision,
    position,
  },
  required: ['apiKeyId', 'secret', 'role', 'revision', 'position'],
};

const eventItem = (extra: Record<string, SchemaObject>): SchemaObject => ({
  type: 'object',
  properties: {
    ...extra,
    revision: { type: 'integer', description: 'Position of the event inside its stream' },
    position: { type: 'string', description: 'Position in the global log (opaque)' },
    type: { type: 'string' },
    data: { type: 'object' },
    metadata: { type: 'object', description: 'correlationId, causationId, actor, occurredAt, schemaVersion' },
    recordedAt: timestamp,
  },
  required: ['revision', 'position', 'type', 'data', 'metadata', 'recordedAt'],
});

export const TENANT_EVENTS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    items: { type: 'array', items: eventItem({}) },
    next: { type: ['integer', 'null'], description: 'Pass as `after` for the next page' },
  },
  required: ['items', 'next'],
};

export const FEED_PAGE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    items: { type: 'array', items: eventItem({ streamName: { type: 'string' } }) },
    next: { type: ['string', 'null'], description: 'Pass as `after` for the next page' },
  },
  required: ['items', 'next'],
};

export const TENANT_STATUS_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    name: { type: 'string' },
    status: { type: 'string', enum: ['active', 'suspended', 'deleting', 'deleted'] },
    suspension: {
      type: 'object',
      properties: { reason: { type: 'string' } },
      required: ['reason'],
    },
    rootWorkspaceId: uuid,
    revision,
    position,
  },
  required: ['tenantId', 'name', 'status', 'rootWorkspaceId', 'revision', 'position'],
};

const quota: SchemaObject = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 0 },
    source: {
      type: 'string',
      enum: ['tenant', 'default'],
      description: "The tenant's own, or the configured default",
    },
    current: { type: 'integer', minimum: 0, description: 'Use now (maxDepth: the deepest workspace)' },
  },
  required: ['limit', 'source', 'current'],
};

export const TENANT_QUOTAS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    quotas: {
      type: 'object',
      properties: {
        maxWorkspaces: quota,
        maxDepth: quota,
        maxApiKeys: quota,
        maxMembers: quota,
        maxGroups: quota,
      },
      required: ['maxWorkspaces', 'maxDepth', 'maxApiKeys', 'maxMembers', 'maxGroups'],
    },
    revision,
    position,
  },
  required: ['tenantId', 'quotas'],
};

export const MOVED_WORKSPACE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    workspaceId: uuid,
    tenantId: uuid,
    parentWorkspaceId: uuid,
    name: { type: 'string' },
    isRoot: { type: 'boolean' },
    depth: { type: 'integer', minimum: 1 },
    path: { type: 'array', items: uuid, description: 'Workspace ids from the root down to this one' },
    revision,
    position,
  },
  required: ['workspaceId', 'tenantId', 'parentWorkspaceId', 'name', 'depth', 'path', 'revision', 'position'],
};
