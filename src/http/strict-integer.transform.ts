import { Transform } from 'class-transformer';

const DECIMAL_INTEGER = /^-?\d{1,16}$/;

/**
 * Query parameters are strings; Number() would read '' as 0 (so `?after=` silently meant "after
 * revision 0"), and accept ' 7 ', '0x1f' and '1e3'. Only plain decimal digits become a number;
 * anything else becomes NaN, which @IsInt refuses.
 */
export function StrictInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN,
  );
}
