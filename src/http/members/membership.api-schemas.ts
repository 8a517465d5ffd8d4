import type { SchemaObject } from '../openapi/api-schemas.js';
import { USER_ID_PATTERN } from '../../tenancy/user-id.js';

/** Response shapes of the membership routes for the OpenAPI document. */
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const timestamp: SchemaObject = { type: 'string', format: 'date-time' };
const userId: SchemaObject = {
  type: 'string',
  pattern: USER_ID_PATTERN,
  description: "The caller's identity provider's subject id",
};
const role: SchemaObject = { type: 'string', enum: ['viewer', 'editor', 'admin'] };
const scope: SchemaObject = {
  type: ['string', 'null'],
  format: 'uuid',
  description: 'The workspace (and its subtree); null: the whole tenant',
};
const written: Record<string, SchemaObject> = {
  revision: { type: 'integer', minimum: 0, description: "The tenant stream's revision (also the ETag)" },
  position: {
    type: ['string', 'null'],
    description: 'Log position of the write; send it back as Min-Position',
  },
};
const answeredAt: Record<string, SchemaObject> = {
  revision: { type: ['integer', 'null'], description: 'The tenant revision the answer was taken at' },
  position: {
    type: ['string', 'null'],
    description: 'The log position of the last event the answer includes (pass it on as Min-Position)',
  },
};

export const PRINCIPAL_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { type: { type: 'string', enum: ['user', 'group', 'apiKey'] }, id: { type: 'string' } },
  required: ['type', 'id'],
};

const displayName: SchemaObject = {
  type: ['string', 'null'],
  description: 'Null when none was given, or when it was erased (then personalDataErased is true)',
};
const personalDataErased: SchemaObject = {
  type: 'boolean',
  enum: [true],
  description: "Present when the member's personal data was erased (docs/personal-data.md)",
};

export const MEMBER_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { tenantId: uuid, userId, displayName, personalDataErased, ...written },
  required: ['tenantId', 'userId', 'displayName', 'revision', 'position'],
};

export const MEMBER_ERASED_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { tenantId: uuid, userId, personalDataErased, ...written },
  required: ['tenantId', 'userId', 'personalDataErased', 'revision', 'position'],
};

export const MEMBER_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    userId,
    displayName,
    personalDataErased,
    addedAt: timestamp,
    updatedAt: timestamp,
  },
  required: ['tenantId', 'userId', 'displayName', 'addedAt', 'updatedAt'],
};

export const MEMBER_DETAIL_SCHEMA: SchemaObject = {
  ...MEMBER_SCHEMA,
  properties: {
    ...(MEMBER_SCHEMA.properties as object),
    groups: {
      type: 'array',
      items: { type: 'object', properties: { groupId: uuid, name: { type: 'string' } } },
    },
  },
};

export const GROUP_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    groupId: uuid,
    name: { type: 'string' },
    memberCount: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
  required: ['tenantId', 'groupId', 'name', 'memberCount'],
};

export const GROUP_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    tenantId: uuid,
    groupId: uuid,
    name: { type: 'string' },
    memberCount: { type: 'integer' },
    ...written,
  },
  required: ['tenantId', 'groupId', 'name', 'memberCount', 'revision', 'position'],
};

export const GROUP_MEMBERSHIP_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { tenantId: uuid, groupId: uuid, userId, ...written },
  required: ['tenantId', 'groupId', 'userId', 'revision', 'position'],
};

export const GROUP_MEMBER_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { userId, displayName, personalDataErased, addedAt: timestamp },
  required: ['userId', 'displayName', 'addedAt'],
};

const grantProperties: Record<string, SchemaObject> = {
  tenantId: uuid,
  grantId: uuid,
  principal: PRINCIPAL_SCHEMA,
  role,
  workspaceId: scope,
  origin: {
    type: 'string',
    enum: ['grant', 'apiKey'],
    description: 'apiKey: the role the key was issued with, which changes only with the key',
  },
};

export const GRANT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { ...grantProperties, grantedAt: timestamp },
  required: ['tenantId', 'grantId', 'principal', 'role', 'workspaceId', 'origin'],
};

export const GRANT_WRITTEN_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { ...grantProperties, ...written },
  required: ['tenantId', 'grantId', 'principal', 'role', 'workspaceId', 'origin', 'revision', 'position'],
};

const via: SchemaObject = {
  type: 'object',
  description: 'The grant the role comes from',
  properties: {
    grantId: uuid,
    workspaceId: scope,
    group: { ...uuid, description: 'Held through this group' },
  },
  required: ['grantId', 'workspaceId'],
};

const checkAnswer: SchemaObject = {
  type: 'object',
  properties: {
    allowed: { type: 'boolean' },
    role: { ...role, description: 'The strongest role held there, whether or not it suffices' },
    via,
    code: {
      type: 'string',
      enum: ['WORKSPACE_NOT_FOUND'],
      description: 'In a batch only: the workspace of this check does not exist',
    },
  },
  required: ['allowed'],
};

export const CHECK_ANSWER_SCHEMA: SchemaObject = {
  oneOf: [
    {
      ...checkAnswer,
      properties: { ...(checkAnswer.properties as object), ...answeredAt },
      description: 'One check',
    },
    {
      type: 'object',
      description: 'A batch: one result per check, in order',
      properties: { results: { type: 'array', items: checkAnswer }, ...answeredAt },
      required: ['results'],
    },
  ],
};

export const REACHABLE_PAGE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          workspaceId: uuid,
          parentWorkspaceId: { type: ['string', 'null'], format: 'uuid' },
          name: { type: 'string' },
          depth: { type: 'integer' },
          role,
          via,
        },
      },
    },
    nextCursor: { type: ['string', 'null'] },
    ...answeredAt,
  },
  required: ['items', 'nextCursor'],
};

export const ACCESS_PAGE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          principal: PRINCIPAL_SCHEMA,
          role,
          via,
          inherited: { type: 'boolean', description: 'The grant is on an ancestor or the tenant' },
        },
      },
    },
    nextCursor: { type: ['string', 'null'] },
    ...answeredAt,
  },
  required: ['items', 'nextCursor'],
};
