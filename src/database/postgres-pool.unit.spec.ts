import { describe, expect, it } from '@jest/globals';
import { connectionConfig } from './postgres-pool.js';

/** The start-up options, as PostgreSQL reads them: a backslash keeps the space in the value. */
const SETTINGS =
  '-c DateStyle=ISO -c search_path=public -c default_transaction_isolation=read\\ committed -c synchronous_commit=on -c row_security=on';

describe('connectionConfig', () => {
  it('starts a connection with the ISO DateStyle, the schema public alone on its search_path, READ COMMITTED, synchronous commits and row security', () => {
    expect(connectionConfig('postgres://u:p@db:5432/tenancy')).toEqual({
      connectionString: 'postgres://u:p@db:5432/tenancy',
      options: SETTINGS,
    });
  });

  it("adds them after the connection string's own options, which node-postgres takes over the config's, so they win", () => {
    const { connectionString, options } = connectionConfig(
      'postgres://u:p%40ss@db/tenancy?sslmode=require&options=-c%20search_path%3Dapp',
    );
    expect(options).toBeUndefined();
    const url = new URL(connectionString);
    expect(url.searchParams.get('options')).toBe(`-c search_path=app ${SETTINGS}`);
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(url.password).toBe('p%40ss');
  });

  it('gives a string that is not a URL (a socket directory) the options beside it', () => {
    expect(connectionConfig('/var/run/postgresql tenancy')).toEqual({
      connectionString: '/var/run/postgresql tenancy',
      options: SETTINGS,
    });
  });
});
