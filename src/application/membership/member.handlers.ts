import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';
import type { PersonalText } from '../../tenancy/personal-text.js';
import { parseResourceName } from '../../tenancy/resource-name.js';
import { requireActiveTenant } from '../../tenancy/tenant-rules.js';
import { requireMemberCondition } from '../../tenancy/membership.decider.js';
import { parseNewUserId, parseUserId } from '../../tenancy/user-id.js';
import { requireIfMatch, TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import { writeResult, type WriteResult } from '../commands/write-results.js';
import { AddMemberCommand, ErasePersonalDataCommand, RemoveMemberCommand } from './member.commands.js';
import { memberBody, type MemberBody } from './membership-bodies.js';

@CommandHandler(AddMemberCommand)
export class AddMemberHandler implements ICommandHandler<AddMemberCommand, WriteResult<MemberBody>> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly vault: PersonalDataVault,
  ) {}

  async execute({
    tenantId,
    userId,
    displayName,
    ifMatch,
    context,
    onlyIf,
  }: AddMemberCommand): Promise<WriteResult<MemberBody>> {
    // The name is checked here, in plain text, because the decider only ever sees it sealed.
    let name: string | null | undefined;
    let sealed: PersonalText | null | undefined;
    try {
      name =
        typeof displayName === 'string' ? parseResourceName(displayName, 'displayName').display : displayName;
      sealed = name === undefined || name === null ? name : undefined;
      if (typeof name === 'string') {
        parseNewUserId(userId);
        // No key is made for a request the tenant would refuse anyway.
        const { state, revision } = await this.tenants.read(tenantId);
        requireIfMatch(ifMatch, revision);
        requireActiveTenant(state, tenantId);
        requireMemberCondition(onlyIf, `member ${userId}`, state.membership.members.has(userId));
        sealed = await this.vault.seal({ tenantId, userId }, name);
      }
    } catch (error) {
      this.tenants.countRefusedBeforeDecision('AddMember', error);
      throw error;
    }
    const outcome = await this.tenants.execute(
      {
        type: 'AddMember',
        tenantId,
        userId,
        ...(sealed === undefined ? {} : { displayName: sealed }),
        ...(onlyIf === undefined ? {} : { onlyIf }),
      },
      context,
      { ifMatch },
    );
    const member = outcome.state.membership.members.get(userId);
    if (member === undefined) throw new Error(`member ${userId} missing after being added`);
    const shown =
      typeof name === 'string' ? name : await this.vault.reveal({ tenantId, userId }, member.displayName);
    const erased =
      shown === null && outcome.state.membership.personalDataOf(userId) === 'erased' && name === undefined;
    const result = await writeResult(
      this.tenants,
      tenantId,
      outcome,
      memberBody(tenantId, member, shown, erased),
    );
    // "Added" is what the client asked about: a changed display name is not a new member.
    return { ...result, changed: outcome.events.some((event) => event.type === 'MemberAdded') };
  }
}

/**
 * Deletes the person's key first, then records the erasure in the log: if the process dies in
 * between, the data is unreadable already and a retry appends the event. Never the other way round,
 * which could leave the log saying "erased" while the key still opens every copy. Once the event
 * is in the log the key is deleted again (see below).
 */
@CommandHandler(ErasePersonalDataCommand)
export class ErasePersonalDataHandler implements ICommandHandler<ErasePersonalDataCommand> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly vault: PersonalDataVault,
  ) {}

  async execute({ tenantId, userId, ifMatch, context }: ErasePersonalDataCommand) {
    const id = parseUserId(userId);
    // The key is deleted before the erasure is recorded (a crash in between leaves the name already
    // unreadable), but only once the erasure is decided: a refusal (a stale If-Match, a revoked key,
    // no tenant, never a member) deletes nothing.
    const outcome = await this.tenants.execute({ type: 'ErasePersonalData', tenantId, userId: id }, context, {
      ifMatch,
      beforeAppend: async (state) => {
        if (state.membership.personalDataOf(id) !== undefined)
          await this.vault.erase({ tenantId, userId: id });
      },
    });
    // A name given on another instance between the deletion above and the event was sealed with a
    // key made meanwhile, and the log records it before PersonalDataErased: it is erased too. Done
    // on a retry as well, so a crash right after the append leaves no such key behind.
    if (outcome.state.membership.personalDataOf(id) === 'erased')
      await this.vault.erase({ tenantId, userId: id });
    return writeResult(this.tenants, tenantId, outcome, {
      tenantId,
      userId: id,
      personalDataErased: true as const,
    });
  }
}

@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, userId, ifMatch, context }: RemoveMemberCommand) {
    const outcome = await this.tenants.execute({ type: 'RemoveMember', tenantId, userId }, context, {
      ifMatch,
    });
    return writeResult(this.tenants, tenantId, outcome, { tenantId, userId });
  }
}
