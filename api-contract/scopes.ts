/**
 * What a token may do, weakest first; each scope implies the ones before it:
 * admin ⊃ deploy ⊃ build ⊃ read.
 */
export const scopes = ['read', 'build', 'deploy', 'admin'] as const;

export type Scope = (typeof scopes)[number];

/** Whether holding `held` allows an operation that needs `needed`. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  const rank = scopes.indexOf(needed);
  return held.some((scope) => scopes.indexOf(scope) >= rank);
}
