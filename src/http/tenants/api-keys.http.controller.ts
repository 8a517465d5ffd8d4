import { Body, Controller, Delete, Get, Headers, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { ApiKeyQueries } from '../../application/access/api-key.queries.js';
import type { ApiKeyBody } from '../../application/commands/issue-api-key.command.js';
import { IssueApiKeyCommand } from '../../application/commands/issue-api-key.command.js';
import { RevokeApiKeyCommand } from '../../application/commands/revoke-api-key.command.js';
import { CLOCK, type Clock } from '../../application/clock.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, sendWrite } from '../write-response.js';
import { IssueApiKeyRequestDto } from './api-keys.request.dto.js';
import {
  ApiIfMatch,
  ApiJson,
  ApiNoContent,
  ApiRoute,
  ApiUuidParam,
  ETAG_HEADER,
} from '../openapi/api-docs.decorators.js';
import { API_KEY_SCHEMA, ISSUED_API_KEY_SCHEMA } from '../openapi/api-schemas.js';

@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeysHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly keys: ApiKeyQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The only answer that ever contains the secret. */
  @Post()
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  @ApiRoute('api-keys', 'Issue an API key for the tenant or one of its workspaces', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
    409: [
      'API_KEY_LIMIT_REACHED',
      'API_KEY_ID_TAKEN',
      'QUOTA_EXCEEDED',
      'WORKSPACE_DELETING',
      'TENANT_SUSPENDED',
      'TENANT_DELETING',
    ],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(201, 'Issued; the only answer that contains the secret', ISSUED_API_KEY_SCHEMA, {
    ...ETAG_HEADER,
    Location: 'The key, to revoke with DELETE (there is no GET of one key: GET …/api-keys lists them)',
  })
  @ApiIfMatch()
  async issue(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: IssueApiKeyRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new IssueApiKeyCommand(
        tenantId,
        body.apiKeyId?.toLowerCase(),
        body.role,
        body.workspaceId?.toLowerCase() ?? null,
        body.name ?? null,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/api-keys/${result.body.apiKeyId}`);
    response.setHeader('Cache-Control', 'no-store');
    const { apiKeyId, secret, role, workspaceId, name, createdAt, revision, position } = sendWrite(
      response,
      result,
      201,
    );
    return { apiKeyId, secret, role, workspaceId, name, createdAt, revision, position };
  }

  @Get()
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  @ApiRoute('api-keys', "The tenant's API keys (never their secrets)", {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'The keys', {
    type: 'object',
    properties: { items: { type: 'array', items: API_KEY_SCHEMA } },
    required: ['items'],
  })
  list(@Param('tenantId', UuidParamPipe) tenantId: string): Promise<{ items: ApiKeyBody[] }> {
    return this.keys.list(tenantId);
  }

  @Get(':apiKeyId')
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  @ApiRoute('api-keys', 'One API key (never its secret), revoked ones included', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND', 'API_KEY_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('apiKeyId')
  @ApiJson(200, 'The key', API_KEY_SCHEMA)
  get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('apiKeyId', UuidParamPipe) apiKeyId: string,
  ): Promise<ApiKeyBody> {
    return this.keys.get(tenantId, apiKeyId);
  }

  @Delete(':apiKeyId')
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  @ApiRoute('api-keys', 'Revoke an API key', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'API_KEY_NOT_FOUND'],
    // Not TENANT_SUSPENDED: a suspended tenant's keys can still be revoked (docs/lifecycle.md).
    409: ['TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('apiKeyId')
  @ApiNoContent('Revoked (or already revoked)')
  @ApiIfMatch()
  async revoke(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('apiKeyId', UuidParamPipe) apiKeyId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RevokeApiKeyCommand(
        tenantId,
        apiKeyId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    sendWrite(response, result, 204);
  }
}
