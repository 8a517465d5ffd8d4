-- Up Migration

-- Transactions that readers of the log need not wait for (docs/adr/0002): a rebuild's chunks and
-- its index builds, which write only read-model tables and run for seconds each. The log's readers
-- stop below the oldest transaction still running; one listed here is passed over, so a replay no
-- longer holds the live read models and the feed back for as long as each chunk takes. A row is
-- written and committed on another connection while its transaction runs (it must be visible to
-- readers then), and rows of ended transactions are deleted by the next declaration. Unlogged: a
-- declaration need not survive a crash, since the transaction it names is gone with it, and its
-- commit then does not wait for the WAL to reach the disk.
CREATE UNLOGGED TABLE log_horizon_exemptions (
  transaction_id xid8 PRIMARY KEY,
  declared_at timestamptz NOT NULL DEFAULT now()
);

-- A transaction listed there must never append: an event it wrote would sort below positions that
-- readers have already passed, and be skipped. The append function refuses it. The rule lives in a
-- thin wrapper, so that es_try_append's body (migration 0003) is not written out again.
ALTER FUNCTION es_try_append(text, text, uuid[], text[], jsonb[], jsonb[]) RENAME TO es_try_append_unchecked;

CREATE FUNCTION es_try_append(
  p_stream text,
  p_expected text,
  p_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[]
) RETURNS TABLE (
  appended boolean,
  next_revision bigint,
  transaction_id xid8,
  global_position bigint,
  actual_revision bigint
)
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM log_horizon_exemptions x WHERE x.transaction_id = pg_current_xact_id_if_assigned()) THEN
    RAISE EXCEPTION 'es_append: a transaction exempt from the log horizon cannot append' USING ERRCODE = '55000';
  END IF;
  RETURN QUERY SELECT * FROM es_try_append_unchecked(p_stream, p_expected, p_ids, p_types, p_data, p_metadata);
END;
$$;

-- Down Migration
DROP FUNCTION es_try_append(text, text, uuid[], text[], jsonb[], jsonb[]);
ALTER FUNCTION es_try_append_unchecked(text, text, uuid[], text[], jsonb[], jsonb[]) RENAME TO es_try_append;
DROP TABLE log_horizon_exemptions;
