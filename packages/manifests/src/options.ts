/**
 * The platform's options (what users set) and their resolution into a complete configuration (what the components
 * render): types and documented defaults in options/types.ts, the defaults in options/defaults.ts, each option's
 * check in options/schema.ts, the resolution and the rules between options in options/resolve.ts.
 */
export { resolveApp, resolveOptions } from './options/resolve.js';
export { checkOptions } from './options/schema.js';
export * from './options/types.js';
