/**
 * Stand-ins for Node built-in modules (fs, path, zlib, crypto, …) and Node-only packages in a
 * browser bundle. The bundler (examples/lab/build.ts) generates one module per built-in whose
 * exports are the real module's names, each bound to {@link unavailable}: importing costs
 * nothing, and calling says which function of which module the browser lacks, instead of
 * failing with "undefined is not a function" somewhere inside.
 */

/** A function (also usable as a base class) that throws when called or constructed. */
export function unavailable(moduleName: string, member: string): (...args: unknown[]) => never {
  const fail = function (): never {
    throw new Error(`${moduleName}.${member} is not available in the browser: this part of arra-ts reads files or uses Node APIs; in a page, fetch the bytes and use the parse* functions (e.g. parseSafetensors)`);
  };
  Object.defineProperty(fail, 'name', { value: `${moduleName}.${member}` });
  return fail;
}
