import { describe, expect, it } from '@jest/globals';
import { AccessDeniedError, EventStoreDBClient, UnavailableError } from '@eventstore/db-client';
import { ConnectionStateTracker } from '../../src/event-store/esdb/connection-state.js';
import { toClientConnectionString } from '../../src/event-store/esdb/esdb-connection-string.js';
import { createEsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';

describe('EventStoreDB connection strings', () => {
  it.each([
    ['esdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false'],
    ['esdb+discover://cluster.example.com:2113', 'esdb+discover://cluster.example.com:2113'],
    ['kurrentdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false'],
    [
      'kurrentdb+discover://admin:changeit@cluster.example.com:2113',
      'esdb+discover://admin:changeit@cluster.example.com:2113',
    ],
    ['kurrent://a:2113,b:2113,c:2113?tls=true', 'esdb://a:2113,b:2113,c:2113?tls=true'],
    ['kdb+discover://cluster:2113', 'esdb+discover://cluster:2113'],
    ['KurrentDB://Host:2113', 'esdb://Host:2113'],
  ])('%s is handed to the client as %s', (given, expected) => {
    expect(toClientConnectionString(given)).toBe(expected);
  });

  it('refuses other schemes and strings without one', () => {
    expect(() => toClientConnectionString('http://localhost:2113')).toThrow('unsupported');
    expect(() => toClientConnectionString('localhost:2113')).toThrow(TypeError);
  });

  it.each([
    'kurrentdb://localhost:2113?tls=false',
    'kurrentdb+discover://cluster.example.com:2113?tls=true',
    'esdb://node1:2113,node2:2113,node3:2113?tls=true&nodePreference=leader&keepAliveInterval=5000',
  ])('the client parses the rewritten %s without connecting', async (connectionString) => {
    const client = EventStoreDBClient.connectionString(toClientConnectionString(connectionString));
    await client.dispose();
  });

  it('the factory opens a store on a KurrentDB connection string', async () => {
    const store = createEsdbEventStore('kurrentdb://localhost:2113?tls=false');
    expect(store.connectionState()).toBe('disconnected');
    await store.close();
  });
});

describe('EventStoreDB connection state', () => {
  it('is disconnected until a call succeeds', () => {
    const tracker = new ConnectionStateTracker();
    expect(tracker.state).toBe('disconnected');
    tracker.succeeded();
    expect(tracker.state).toBe('connected');
  });

  it('an unreachable server makes it disconnected, a later success connected again', () => {
    const tracker = new ConnectionStateTracker();
    tracker.succeeded();
    tracker.failed(new UnavailableError());
    expect(tracker.state).toBe('disconnected');
    tracker.succeeded();
    expect(tracker.state).toBe('connected');
  });

  it('a refused request proves the server answered', () => {
    const tracker = new ConnectionStateTracker();
    tracker.failed(new AccessDeniedError());
    expect(tracker.state).toBe('connected');
  });

  it('is reconnecting while any subscription waits to resubscribe', () => {
    const tracker = new ConnectionStateTracker();
    const first = {};
    const second = {};
    tracker.succeeded();
    tracker.subscriptionDropped(first);
    tracker.subscriptionDropped(second);
    expect(tracker.state).toBe('reconnecting');
    tracker.subscriptionRecovered(first);
    expect(tracker.state).toBe('reconnecting');
    tracker.subscriptionEnded(second);
    expect(tracker.state).toBe('connected');
  });

  it('is disconnected once closed', () => {
    const tracker = new ConnectionStateTracker();
    tracker.succeeded();
    tracker.close();
    expect(tracker.state).toBe('disconnected');
  });
});
