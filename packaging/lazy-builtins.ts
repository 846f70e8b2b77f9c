/**
 * An esbuild plugin for every logship bundle (bench/bundle.ts, the single
 * executable's packaging/build-sea.ts): Node modules that a dependency
 * requires as it loads, for a path logship never takes, are loaded at
 * their first use instead. Each one loaded is memory in every process,
 * the agent's included (its budget: docs/ARCHITECTURE.md, Node runtime
 * options per role).
 *
 * - undici's HTTP/2 client (lib/dispatcher/client-h2.js) requires
 *   node:http2 when a Pool is loaded, though logship speaks HTTP/1.1 only
 *   (no `allowH2`); http2 brings tls and OpenSSL's set-up. Its module body
 *   reads `http2.constants` only, so the stand-in holds the constants as
 *   the Node that builds the bundle has them (the bundle runs on the same
 *   pinned Node).
 *
 * (commander's node:child_process, for subcommands in files of their own,
 * is not worth one: a process that listens loads it anyway, through
 * node:net's cluster check.)
 *
 * The stand-in loads the real module at the first read of any other
 * property. The build fails if a listed dependency no longer requires its
 * module (a new version): then this list must learn what it does now.
 */
import { builtinModules, createRequire } from "node:module";
import type { Plugin } from "esbuild";

interface LazyBuiltin {
  /** The module, as the dependency names it. */
  specifier: string;
  /** The dependency's file that requires it. */
  importer: RegExp;
  /** Properties read when the dependency loads: copied into the stand-in at build time. */
  eager: readonly string[];
}

const LAZY_BUILTINS: readonly LazyBuiltin[] = [
  { specifier: "node:http2", importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/, eager: ["constants"] },
];

const NAMESPACE = "logship-lazy-builtin";

/** The stand-in's source (CommonJS; esbuild turns its require() into the bundle's). */
export function standInSource(builtin: LazyBuiltin): string {
  if (!builtinModules.includes(builtin.specifier.replace(/^node:/, ""))) throw new Error(`assertion failed: ${builtin.specifier} is a Node module`);
  const real = createRequire(import.meta.url)(builtin.specifier) as Record<string, unknown>;
  const eager = Object.fromEntries(builtin.eager.map((name) => [name, real[name]]));
  return [
    `const eager = ${JSON.stringify(eager)};`,
    `let real;`,
    `const load = () => (real ??= require(${JSON.stringify(builtin.specifier)}));`,
    `module.exports = new Proxy(eager, {`,
    `  get: (target, name) => (Object.hasOwn(target, name) ? target[name] : load()[name]),`,
    `  has: (target, name) => Object.hasOwn(target, name) || name in load(),`,
    `});`,
  ].join("\n");
}

export const lazyBuiltins: Plugin = {
  name: "lazy-builtins",
  setup(build) {
    const replaced = new Set<string>();
    const filter = new RegExp(`^(${LAZY_BUILTINS.map((builtin) => builtin.specifier).join("|")})$`);
    build.onResolve({ filter }, (args) => {
      const builtin = LAZY_BUILTINS.find((candidate) => candidate.specifier === args.path && candidate.importer.test(args.importer));
      if (builtin === undefined) return undefined;
      replaced.add(builtin.specifier);
      return { path: builtin.specifier, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const builtin = LAZY_BUILTINS.find((candidate) => candidate.specifier === args.path);
      if (builtin === undefined) throw new Error(`assertion failed: ${args.path} is a lazy builtin`);
      return { contents: standInSource(builtin), loader: "js" };
    });
    build.onEnd(() => {
      const missing = LAZY_BUILTINS.filter((builtin) => !replaced.has(builtin.specifier));
      if (missing.length > 0) throw new Error(`packaging/lazy-builtins.ts: no longer required as listed: ${missing.map((builtin) => `${builtin.specifier} by ${builtin.importer}`).join(", ")}`);
    });
  },
};
