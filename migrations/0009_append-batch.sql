-- Up Migration

-- Several appends in one statement and one transaction: the appends that callers of one process
-- make while earlier ones are still under way travel together (group commit), one round trip and
-- one commit for all of them instead of one each. Each is es_try_append as it is, in the order
-- given, with its own outcome row (ord: its place in the arrays); a failed expectation fails that
-- append alone. An error (a duplicate event id, say) rolls the whole statement back, and the caller
-- then sends each append on its own. Callers give the appends sorted by stream, so that two batches
-- lock stream rows in the same order and never wait for each other in a cycle.
-- p_counts: how many of the event arrays' elements each append takes, in order.
CREATE FUNCTION es_try_append_batch(
  p_streams text[],
  p_expected text[],
  p_counts int[],
  p_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[]
) RETURNS TABLE (
  ord int,
  appended boolean,
  next_revision bigint,
  transaction_id xid8,
  global_position bigint,
  actual_revision bigint
)
LANGUAGE plpgsql AS $$
DECLARE
  v_from int := 1;
  v_to int;
  v_outcome record;
BEGIN
  IF cardinality(p_expected) IS DISTINCT FROM cardinality(p_streams)
     OR cardinality(p_counts) IS DISTINCT FROM cardinality(p_streams) THEN
    RAISE EXCEPTION 'es_try_append_batch: one expected revision and one count per stream' USING ERRCODE = '22023';
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_streams), 0) LOOP
    v_to := v_from + p_counts[i] - 1;
    SELECT * INTO v_outcome
    FROM es_try_append(p_streams[i], p_expected[i], p_ids[v_from:v_to], p_types[v_from:v_to],
                       p_data[v_from:v_to], p_metadata[v_from:v_to]) o;
    ord := i;
    appended := v_outcome.appended;
    next_revision := v_outcome.next_revision;
    transaction_id := v_outcome.transaction_id;
    global_position := v_outcome.global_position;
    actual_revision := v_outcome.actual_revision;
    RETURN NEXT;
    v_from := v_to + 1;
  END LOOP;
END;
$$;

-- Down Migration
DROP FUNCTION es_try_append_batch(text[], text[], int[], uuid[], text[], jsonb[], jsonb[]);
