import { describe, expect, it, jest } from '@jest/globals';
import express from 'express';
import { RouteTable } from './route-table.js';

function appWithRoutes(): express.Express {
  const app = express();
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const answer = (_request: express.Request, response: express.Response): void => {
    response.end();
  };
  app.get('/v1/tenants/:tenantId', answer);
  app.post('/v1/tenants/:tenantId/workspaces', answer);
  app.get('/health/live', answer);
  return app;
}

describe('RouteTable', () => {
  it("resolves a request's path to its pattern, methods and parameters, ignoring the query", () => {
    const table = RouteTable.of(appWithRoutes());
    expect(table.resolveRequest({ originalUrl: '/v1/tenants/t-1/workspaces?limit=5' })).toEqual({
      path: '/v1/tenants/:tenantId/workspaces',
      methods: ['POST'],
      params: { tenantId: 't-1' },
    });
    expect(table.label({ originalUrl: '/v1/tenants/t-1/' })).toEqual({ path: 'unmatched', params: {} });
  });

  it('looks each request up once, however many parts of the service ask for its route', () => {
    const table = RouteTable.of(appWithRoutes());
    const lookups = jest.spyOn(table, 'resolve');
    const known = { originalUrl: '/v1/tenants/t-2' };
    const unknown = { originalUrl: '/v2/nothing' };

    const first = table.resolveRequest(known);
    expect(table.label(known)).toBe(first);
    expect(table.resolveRequest(known)).toBe(first);
    expect(table.resolveRequest(unknown)).toBeUndefined();
    expect(table.label(unknown).path).toBe('unmatched');
    expect(table.resolveRequest(unknown)).toBeUndefined();

    expect(lookups.mock.calls).toEqual([['/v1/tenants/t-2'], ['/v2/nothing']]);
    // Another request with the same path is looked up on its own.
    expect(table.resolveRequest({ originalUrl: '/v1/tenants/t-2' })).toEqual(first);
    expect(lookups).toHaveBeenCalledTimes(3);
  });
});
