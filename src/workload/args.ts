// Checks of the arguments a workload passes to the API (api.ts) and of its definition
// (define.ts): a wrong type or shape is a TypeError thrown at the call, so its stack names the
// workload's line. What the kernel itself refuses is left to the kernel, as an errno.

const GeneratorFunction = Object.getPrototypeOf(function* () {})
  .constructor as GeneratorFunctionConstructor;

/** `function* () {}` or `*method() {}` (not an async generator, not a plain function). */
export const isGeneratorFunction = (f: unknown): boolean =>
  typeof f === 'function' && Object.getPrototypeOf(f) === GeneratorFunction.prototype;
