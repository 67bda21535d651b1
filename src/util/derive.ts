/**
 * One generic mapping from a configuration onto the record a result keeps of it: each field of
 * the record is the configuration's field of the same name, copied (`copy`, allowed only where the
 * types agree), or derived by a function (renamed, formatted, a secret hidden). The mapped type
 * makes a record field without a derivation fail to compile; a test checks the other way, that
 * every configuration field reaches the record or is declared as left out.
 */

type Derive<S, O, K extends keyof O, X> = (source: S, extra: X) => O[K];

export type Derivation<S, O, X = undefined> = {
  [K in keyof O]-?: K extends keyof S
    ? S[K] extends O[K]
      ? 'copy' | Derive<S, O, K, X>
      : Derive<S, O, K, X>
    : Derive<S, O, K, X>;
};

/** The record of `source` by `fields`, in their order; copied values are deep copies. */
export function derive<S, O, X>(source: S, fields: Derivation<S, O, X>, extra: X): O {
  const out: Record<string, unknown> = {};
  for (const [key, how] of Object.entries(fields)) {
    out[key] =
      how === 'copy'
        ? structuredClone((source as Record<string, unknown>)[key])
        : (how as (s: S, x: X) => unknown)(source, extra);
  }
  return out as O;
}

/** The fields a derivation copies as they are. */
export function copiedFields(fields: object): string[] {
  return Object.entries(fields)
    .filter(([, how]) => how === 'copy')
    .map(([k]) => k);
}
