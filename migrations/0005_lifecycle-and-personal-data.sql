-- Up Migration

-- Keys of personal data (crypto-shredding, docs/personal-data.md): one key per person and tenant,
-- here beside the event log and never in it. Erasing a person deletes their key, which makes every
-- value sealed with it unreadable wherever it was copied; the log is never rewritten.
CREATE TABLE personal_data_keys (
  tenant_id uuid NOT NULL,
  key_id uuid NOT NULL,
  user_id text NOT NULL,
  key bytea NOT NULL CHECK (octet_length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key_id),
  UNIQUE (tenant_id, user_id)
);

-- Who was erased, and when: display names stored in plain text before sealing existed (schema
-- version 1) cannot be made unreadable, so every read path hides them for these persons.
CREATE TABLE personal_data_erasures (
  tenant_id uuid NOT NULL,
  user_id text NOT NULL,
  erased_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);

-- The read models learn suspended tenants and erased members. One function changes a schema built
-- by an earlier rm_create_schema, for the live read models here and for every schema a replay or
-- verify builds from now on (rm_create_schema is wrapped, not rewritten, so whatever an earlier
-- migration made it do stays).
CREATE FUNCTION rm_add_lifecycle_columns(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %I.tenants DROP CONSTRAINT tenants_status_check', p_schema);
  EXECUTE format($ddl$
    ALTER TABLE %I.tenants ADD CONSTRAINT tenants_status_check
      CHECK (status IN ('active', 'suspended', 'deleting', 'deleted'))$ddl$, p_schema);
  EXECUTE format('ALTER TABLE %I.tenants ADD COLUMN suspension_reason text, ADD COLUMN suspended_at timestamptz', p_schema);
  -- A display name is personal data: the sealed value ({"sealed": ...}) or, from before sealing,
  -- the plain one ({"text": ...}); revealed (or not) when read.
  EXECUTE format($ddl$
    ALTER TABLE %I.members ALTER COLUMN display_name TYPE jsonb
      USING CASE WHEN display_name IS NULL THEN NULL ELSE jsonb_build_object('text', display_name) END$ddl$, p_schema);
  EXECUTE format('ALTER TABLE %I.members ADD COLUMN personal_data_erased_at timestamptz', p_schema);
END;
$fn$;

ALTER FUNCTION rm_create_schema(text) RENAME TO rm_create_schema_before_0005;

CREATE FUNCTION rm_create_schema(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM rm_create_schema_before_0005(p_schema);
  PERFORM rm_add_lifecycle_columns(p_schema);
END;
$fn$;

SELECT rm_add_lifecycle_columns('read_model');

-- Down Migration
DROP FUNCTION rm_create_schema(text);
ALTER FUNCTION rm_create_schema_before_0005(text) RENAME TO rm_create_schema;
ALTER TABLE read_model.members DROP COLUMN personal_data_erased_at;
ALTER TABLE read_model.members ALTER COLUMN display_name TYPE text USING display_name ->> 'text';
ALTER TABLE read_model.tenants DROP COLUMN suspended_at, DROP COLUMN suspension_reason;
ALTER TABLE read_model.tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE read_model.tenants ADD CONSTRAINT tenants_status_check CHECK (status IN ('active', 'deleting', 'deleted'));
DROP FUNCTION rm_add_lifecycle_columns(text);
DROP TABLE personal_data_erasures;
DROP TABLE personal_data_keys;
