-- Up Migration

-- One stream's part of the log in log order (EventFilter.stream: a tenant's feed). Without it, a
-- read of one stream's page after a position could only walk the log's primary key and filter, or,
-- when the statistics took the stream to be small (one written in a burst since the last ANALYZE),
-- was planned as a scan of everything after the position and a sort: thousands of rows per page.
-- Built here it holds up appends while it builds (2-4 s per million events on a 2-core machine);
-- an operator may build it beforehand with CREATE INDEX CONCURRENTLY under this name
-- (docs/deploying.md), which this step then keeps.
CREATE INDEX IF NOT EXISTS events_stream_position ON events (stream_name, transaction_id, global_position);

-- Down Migration
DROP INDEX events_stream_position;
