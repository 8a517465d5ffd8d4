import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiParam } from '@nestjs/swagger';
import {
  ApiIfMatch,
  ApiMemberConditions,
  ApiJson,
  ApiNoContent,
  ApiRoute,
  ApiUuidParam,
  ETAG_HEADER,
  ApiUserIdParam,
} from '../openapi/api-docs.decorators.js';
import { pageOf } from '../openapi/api-schemas.js';
import {
  MEMBER_DETAIL_SCHEMA,
  MEMBER_ERASED_SCHEMA,
  MEMBER_SCHEMA,
  MEMBER_WRITTEN_SCHEMA,
} from './membership.api-schemas.js';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CLOCK, type Clock } from '../../application/clock.js';
import {
  AddMemberCommand,
  ErasePersonalDataCommand,
  RemoveMemberCommand,
} from '../../application/membership/member.commands.js';
import {
  MembershipQueries,
  type MemberDetailView,
  type MemberView,
  type Page,
} from '../../application/membership/membership.queries.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';
import { ReadModelRoute } from '../queries/min-position.interceptor.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, memberConditionOf, sendWrite } from '../write-response.js';
import { PutMemberRequestDto } from './membership.request.dto.js';
import { UserIdParamPipe } from './user-id-param.pipe.js';

const DEFAULT_PAGE_SIZE = 100;
const TENANT = { tenantId: fromParam('tenantId') };

/** The tenant's members: users known by the subject id their identity provider gave them. */
@Controller('v1/tenants/:tenantId/members')
export class MembersHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: MembershipQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Put(':userId')
  @Requires('member:manage', TENANT)
  @ApiRoute('members', 'Add a member (or change its display name)', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH', 'PRECONDITION_FAILED'],
    404: ['TENANT_NOT_FOUND'],
    409: ['QUOTA_EXCEEDED', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiParam({
    name: 'userId',
    description: "A new member's id may not be . or .. (a URL resolves them as path steps)",
    schema: { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._:@|-]{1,255}$' },
  })
  @ApiBody({
    type: PutMemberRequestDto,
    required: false,
    description: 'May be left out: no body reads as {}',
  })
  @ApiJson(201, 'Added', MEMBER_WRITTEN_SCHEMA, { ...ETAG_HEADER, Location: 'The member' })
  @ApiJson(200, 'Already a member (display name changed if another was sent)', MEMBER_WRITTEN_SCHEMA, {
    ...ETAG_HEADER,
    Location: 'The member',
  })
  @ApiMemberConditions()
  async put(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Body() body: PutMemberRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const onlyIf = memberConditionOf(ifMatch, ifNoneMatch);
    const result = await this.commands.execute(
      new AddMemberCommand(
        tenantId,
        userId,
        body.displayName,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
        onlyIf,
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/members/${encodeURIComponent(userId)}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':userId')
  @Requires('member:manage', TENANT)
  @ApiRoute('members', 'Remove a member, with its group memberships and grants', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'MEMBER_NOT_FOUND'],
    409: ['LAST_ADMIN', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUserIdParam()
  @ApiNoContent('Removed')
  @ApiIfMatch()
  async remove(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RemoveMemberCommand(
        tenantId,
        userId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    sendWrite(response, result, 204);
  }

  @Post(':userId/erase')
  @Requires('member:manage', TENANT)
  @ApiRoute(
    'members',
    "Erase a person's personal data (crypto-shredding): their key is deleted, PersonalDataErased recorded",
    {
      400: ['VALIDATION_FAILED'],
      403: ['FORBIDDEN'],
      412: ['REVISION_MISMATCH'],
      404: ['TENANT_NOT_FOUND', 'MEMBER_NOT_FOUND'],
    },
  )
  @ApiUuidParam('tenantId')
  @ApiUserIdParam()
  @ApiJson(200, 'Erased (or erased before, with nothing recorded since)', MEMBER_ERASED_SCHEMA, ETAG_HEADER)
  @ApiIfMatch()
  async erase(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new ErasePersonalDataCommand(
        tenantId,
        userId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Get()
  @Requires('member:read', TENANT)
  @ReadModelRoute('members', "The tenant's members (read model), keyset pages", ['TENANT_NOT_FOUND'])
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'A page of members', pageOf(MEMBER_SCHEMA))
  list(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListTenantsQueryDto,
  ): Promise<Page<MemberView>> {
    return this.queries.members(tenantId, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':userId')
  @Requires('member:read', TENANT)
  @ReadModelRoute('members', 'One member with its groups (read model)', [
    'TENANT_NOT_FOUND',
    'MEMBER_NOT_FOUND',
  ])
  @ApiUuidParam('tenantId')
  @ApiUserIdParam()
  @ApiJson(200, 'The member', MEMBER_DETAIL_SCHEMA)
  get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
  ): Promise<MemberDetailView> {
    return this.queries.member(tenantId, userId);
  }
}
