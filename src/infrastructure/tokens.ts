/** Injection tokens of the objects opened before Nest starts (see Runtime). */
export const APP_CONFIG = Symbol('AppConfig');
export const PG_POOL = Symbol('PgPool');
export const RUNTIME = Symbol('Runtime');
export const CLOCK = Symbol('Clock');

/** Time arrives from outside, so that handlers stay deterministic under test. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
