import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { isDatabaseUnavailable, isDuplicateDatabase, isStatementCancelled } from './database-errors.js';

function databaseError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError('server said so', 0, 'error');
  error.code = code;
  return error;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['terminated by an administrator', databaseError('57P01')],
    ['crash shutdown', databaseError('57P02')],
    ['the server is starting up or shutting down', databaseError('57P03')],
    ['too many connections', databaseError('53300')],
    ['a server that takes no writes (a standby after a failover)', databaseError('25006')],
    ['a session ended by idle_session_timeout', databaseError('57P05')],
    ['a transaction ended by idle_in_transaction_session_timeout', databaseError('25P03')],
    ['a session ended by transaction_timeout', databaseError('25P04')],
    ['a password refused (28P01)', databaseError('28P01')],
    ['a login refused by pg_hba.conf (28000)', databaseError('28000')],
    ['a full disk', databaseError('53100')],
    ["out of (shared) memory: the lock table full of another session's locks", databaseError('53200')],
    ['a connection exception', databaseError('08006')],
    ['refused', socketError('ECONNREFUSED')],
    ['reset', socketError('ECONNRESET')],
    ['both address families refused', new AggregateError([socketError('ECONNREFUSED')], 'connect')],
    ['a connection node-postgres lost', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a client that could not connect in time', new Error('timeout expired')],
  ])('says yes for %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', databaseError('23505')],
    ['a statement timeout', databaseError('57014')],
    ['a limit of the configuration (every retry would meet it)', databaseError('53400')],
    ['a raised rule (ES409)', databaseError('ES409')],
    ['a plain bug', new TypeError('x is undefined')],
    ['a message that merely mentions a connection', new Error('read model: connection row missing')],
    ['not an error at all', 'Connection terminated'],
  ])('says no for %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('isStatementCancelled', () => {
  it.each([
    ['a statement timeout', databaseError('57014'), true],
    ['a lock not available', databaseError('55P03'), true],
    ['terminated by an administrator', databaseError('57P01'), false],
    ['a unique violation', databaseError('23505'), false],
    ['a plain error with the code', Object.assign(new Error('x'), { code: '57014' }), false],
  ])('%s: %s', (_label, error, expected) => {
    expect(isStatementCancelled(error)).toBe(expected);
  });
});

describe('isDuplicateDatabase', () => {
  const onTable = (code: string, table: string) => Object.assign(databaseError(code), { table });

  it.each([
    ['the database exists already (42P04)', databaseError('42P04'), true],
    [
      "two creations past the name check at once: pg_database's unique index",
      onTable('23505', 'pg_database'),
      true,
    ],
    ['a unique violation on another table', onTable('23505', 'events'), false],
    ['another error', databaseError('42501'), false],
    ['no database error at all', new Error('42P04'), false],
  ])('%s', (_label, error, expected) => {
    expect(isDuplicateDatabase(error)).toBe(expected);
  });
});
