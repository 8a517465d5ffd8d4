import { randomUUID } from 'node:crypto';
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
  GROUP_MEMBER_SCHEMA,
  GROUP_MEMBERSHIP_WRITTEN_SCHEMA,
  GROUP_SCHEMA,
  GROUP_WRITTEN_SCHEMA,
} from './membership.api-schemas.js';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  Inject,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CLOCK, type Clock } from '../../application/clock.js';
import {
  AddGroupMemberCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  RemoveGroupMemberCommand,
  RenameGroupCommand,
} from '../../application/membership/group.commands.js';
import {
  MembershipQueries,
  type GroupMemberView,
  type GroupView,
  type Page,
} from '../../application/membership/membership.queries.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';
import { ReadModelRoute } from '../queries/min-position.interceptor.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, memberConditionOf, sendWrite } from '../write-response.js';
import { CreateGroupRequestDto, RenameGroupRequestDto } from './membership.request.dto.js';
import { UserIdParamPipe } from './user-id-param.pipe.js';

const DEFAULT_PAGE_SIZE = 100;
const TENANT = { tenantId: fromParam('tenantId') };

/** Groups of the tenant's members: a grant to a group applies to each of its members. */
@Controller('v1/tenants/:tenantId/groups')
export class GroupsHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: MembershipQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @Requires('member:manage', TENANT)
  @ApiRoute('groups', 'Create a group of members', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND'],
    409: ['GROUP_NAME_TAKEN', 'GROUP_ID_TAKEN', 'QUOTA_EXCEEDED', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(201, 'Created', GROUP_WRITTEN_SCHEMA, { ...ETAG_HEADER, Location: 'The group' })
  @ApiJson(200, 'The same group again (same id and name)', GROUP_WRITTEN_SCHEMA, {
    ...ETAG_HEADER,
    Location: 'The group',
  })
  @ApiIfMatch()
  async create(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: CreateGroupRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const groupId = body.groupId?.toLowerCase() ?? randomUUID();
    const result = await this.commands.execute(
      new CreateGroupCommand(
        tenantId,
        groupId,
        body.name,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/groups/${groupId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Patch(':groupId')
  @Requires('member:manage', TENANT)
  @ApiRoute('groups', 'Rename a group', {
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND', 'GROUP_NOT_FOUND'],
    409: ['GROUP_NAME_TAKEN', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
    412: ['REVISION_MISMATCH'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiIfMatch()
  @ApiJson(200, 'Renamed', GROUP_WRITTEN_SCHEMA, ETAG_HEADER)
  async rename(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Body() body: RenameGroupRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new RenameGroupCommand(
        tenantId,
        groupId,
        body.name,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Delete(':groupId')
  @Requires('member:manage', TENANT)
  @ApiRoute('groups', 'Delete a group and revoke its grants', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'GROUP_NOT_FOUND'],
    409: ['LAST_ADMIN', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiNoContent('Deleted')
  @ApiIfMatch()
  async remove(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new DeleteGroupCommand(
        tenantId,
        groupId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    sendWrite(response, result, 204);
  }

  @Put(':groupId/members/:userId')
  @Requires('member:manage', TENANT)
  @ApiRoute('groups', 'Add a member to a group', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH', 'PRECONDITION_FAILED'],
    404: ['TENANT_NOT_FOUND', 'GROUP_NOT_FOUND', 'MEMBER_NOT_FOUND'],
    409: ['TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiUserIdParam()
  @ApiJson(201, 'Added', GROUP_MEMBERSHIP_WRITTEN_SCHEMA, ETAG_HEADER)
  @ApiJson(200, 'Already in the group', GROUP_MEMBERSHIP_WRITTEN_SCHEMA, ETAG_HEADER)
  @ApiMemberConditions()
  async addMember(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const onlyIf = memberConditionOf(ifMatch, ifNoneMatch);
    const result = await this.commands.execute(
      new AddGroupMemberCommand(
        tenantId,
        groupId,
        userId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
        onlyIf,
      ),
    );
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':groupId/members/:userId')
  @Requires('member:manage', TENANT)
  @ApiRoute('groups', 'Take a member out of a group', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'GROUP_NOT_FOUND', 'MEMBER_NOT_FOUND'],
    409: ['LAST_ADMIN', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiUserIdParam()
  @ApiNoContent('Not in the group (any more)')
  @ApiIfMatch()
  async removeMember(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RemoveGroupMemberCommand(
        tenantId,
        groupId,
        userId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    sendWrite(response, result, 204);
  }

  @Get()
  @Requires('member:read', TENANT)
  @ReadModelRoute('groups', "The tenant's groups (read model), keyset pages", ['TENANT_NOT_FOUND'])
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'A page of groups', pageOf(GROUP_SCHEMA))
  list(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListTenantsQueryDto,
  ): Promise<Page<GroupView>> {
    return this.queries.groups(tenantId, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':groupId')
  @Requires('member:read', TENANT)
  @ReadModelRoute('groups', 'One group (read model)', ['TENANT_NOT_FOUND', 'GROUP_NOT_FOUND'])
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiJson(200, 'The group', GROUP_SCHEMA)
  get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
  ): Promise<GroupView> {
    return this.queries.group(tenantId, groupId);
  }

  @Get(':groupId/members')
  @Requires('member:read', TENANT)
  @ReadModelRoute('groups', "A group's members (read model), keyset pages", [
    'TENANT_NOT_FOUND',
    'GROUP_NOT_FOUND',
  ])
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiJson(200, "A page of the group's members", pageOf(GROUP_MEMBER_SCHEMA))
  members(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Query() query: ListTenantsQueryDto,
  ): Promise<Page<GroupMemberView>> {
    return this.queries.groupMembers(tenantId, groupId, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  /** The URL a PUT of the membership created (its 201 carries no Location: it is this URL). */
  @Get(':groupId/members/:userId')
  @Requires('member:read', TENANT)
  @ReadModelRoute('groups', 'One member of a group (read model)', [
    'TENANT_NOT_FOUND',
    'GROUP_NOT_FOUND',
    'MEMBER_NOT_FOUND',
    'NOT_IN_GROUP',
  ])
  @ApiUuidParam('tenantId')
  @ApiUuidParam('groupId')
  @ApiUserIdParam()
  @ApiJson(200, 'The member, in the group', GROUP_MEMBER_SCHEMA)
  member(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('groupId', UuidParamPipe) groupId: string,
    @Param('userId', UserIdParamPipe) userId: string,
  ): Promise<GroupMemberView> {
    return this.queries.groupMember(tenantId, groupId, userId);
  }
}
