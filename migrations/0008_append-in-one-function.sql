-- Up Migration

-- es_try_append in one function again: migration 0007 put the log-horizon rule in a wrapper that
-- called the body of 0003 (renamed es_try_append_unchecked) through RETURN QUERY. Each append then
-- ran two PL/pgSQL functions and handed its row through a second result set: pg_stat_statements
-- under the commands benchmark put the wrapper's own share at about a fifth of the append's
-- execution time. The body below is 0003's with 0007's check first; es_try_append_unchecked stays
-- (0007's down step renames it back) but nothing calls it.
CREATE OR REPLACE FUNCTION es_try_append(
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
DECLARE
  v_count int := cardinality(p_ids);
  v_revision bigint;
  v_actual bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM log_horizon_exemptions x WHERE x.transaction_id = pg_current_xact_id_if_assigned()) THEN
    RAISE EXCEPTION 'es_append: a transaction exempt from the log horizon cannot append' USING ERRCODE = '55000';
  END IF;
  IF v_count IS NULL OR v_count = 0 THEN
    RAISE EXCEPTION 'es_append: no events' USING ERRCODE = '22023';
  END IF;

  IF p_expected = 'no_stream' THEN
    INSERT INTO event_streams (stream_name, revision) VALUES (p_stream, v_count - 1)
    ON CONFLICT (stream_name) DO NOTHING
    RETURNING revision INTO v_revision;
  ELSIF p_expected = 'any' THEN
    INSERT INTO event_streams (stream_name, revision) VALUES (p_stream, v_count - 1)
    ON CONFLICT (stream_name) DO UPDATE SET revision = event_streams.revision + v_count
    RETURNING revision INTO v_revision;
  ELSIF p_expected = 'stream_exists' THEN
    UPDATE event_streams SET revision = revision + v_count
    WHERE stream_name = p_stream
    RETURNING revision INTO v_revision;
  ELSE
    UPDATE event_streams SET revision = revision + v_count
    WHERE stream_name = p_stream AND revision = p_expected::bigint
    RETURNING revision INTO v_revision;
  END IF;

  IF v_revision IS NULL THEN
    SELECT s.revision INTO v_actual FROM event_streams s WHERE s.stream_name = p_stream;
    RETURN QUERY SELECT false, NULL::bigint, NULL::xid8, NULL::bigint, v_actual;
    RETURN;
  END IF;

  RETURN QUERY
  WITH inserted AS (
    INSERT INTO events (stream_name, stream_revision, event_id, event_type, data, metadata)
    SELECT p_stream, v_revision - v_count + u.ord, u.id, u.type, u.data, u.metadata
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u (id, type, data, metadata, ord)
    ORDER BY u.ord
    RETURNING events.transaction_id, events.global_position
  )
  SELECT true, v_revision, i.transaction_id, i.global_position, v_revision
  FROM inserted i
  ORDER BY i.global_position DESC
  LIMIT 1;
END;
$$;

-- Down Migration
-- The wrapper of migration 0007.
CREATE OR REPLACE FUNCTION es_try_append(
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
