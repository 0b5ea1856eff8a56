/**
 * A module resolution hook for `opm`: an author's module file imports `opm-ts`,
 * `opm-ts/catalog`, ... by name; this hook resolves those names to the files of the
 * running opm-ts package, so the library and its generated builders are loaded once,
 * as plain ESM, instead of a second time through the TypeScript loader.
 * Registered by `src/cli/load.ts` with `module.register`, after tsx, so it runs first.
 */
let map: Record<string, string> = {};

export function initialize(data: { map: Record<string, string> }): void {
  map = data.map;
}

type Resolve = (specifier: string, context: unknown) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

export async function resolve(specifier: string, context: unknown, next: Resolve): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  const url = map[specifier];
  if (url) return { url, format: "module", shortCircuit: true };
  return next(specifier, context);
}
