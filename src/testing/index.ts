/**
 * Helpers for tests that assert on rendered output. Import from `opm-ts/testing`.
 *
 * Nothing here imports a test runner: the matchers and the snapshot serializer are plain
 * objects. `opm-ts/testing/vitest` registers them with vitest (and types them).
 * @packageDocumentation
 */
import type { ConfigShape, ValuesOf } from "../../dsl/config.js";
import { Expose, StatelessWorkload } from "../../dsl/catalog.js";
import { defineModule, type Module, type ModuleRelease, type ReleaseOptions } from "../../dsl/module.js";
import { Engine } from "../engine/engine.js";
import { render, type CueModuleInput, type RenderOptions } from "../render/render.js";
import type { K8sObject, RenderResult } from "../render/types.js";

export { opmMatchers, fieldAt, type OpmMatchers, type MatcherContext, type MatcherOutcome } from "./matchers.js";
export { yamlSerializer, toSnapshotYaml } from "./snapshot.js";

/** Renders and returns the objects as plain data (like cdk8s `Testing.synth`). */
export async function synth(input: ModuleRelease<any> | Module<any> | CueModuleInput, options?: RenderOptions): Promise<K8sObject[]> {
  return (await render(input, options)).objects;
}

/** Every rendered object of a kind. */
export function objectsOfKind(result: RenderResult | readonly K8sObject[], kind: string): K8sObject[] {
  const objects = Array.isArray(result) ? result : (result as RenderResult).objects;
  return objects.filter((o: K8sObject) => o.kind === kind);
}

/** The one object of a kind (and name, if given); throws a readable error if there is not exactly one. */
export function getObject<T = Record<string, any>>(result: RenderResult | readonly K8sObject[], kind: string, name?: string): K8sObject & T {
  const found = objectsOfKind(result, kind).filter((o) => name === undefined || o.metadata.name === name);
  if (found.length !== 1) {
    const all = (Array.isArray(result) ? result : (result as RenderResult).objects).map((o: K8sObject) => `${o.kind}/${o.metadata.name}`);
    throw new Error(`expected exactly one ${kind}${name ? ` named ${name}` : ""}, found ${found.length} among: ${all.join(", ") || "nothing"}`);
  }
  return found[0] as K8sObject & T;
}

const ENGINE_KEY = Symbol.for("opm-ts.testing.engine");

/**
 * The engine every `renderForTest` call uses. One per process (a vitest worker), shared
 * by every test and every test file the worker runs, even when vitest re-imports modules per
 * file. Its worker thread does not keep the process alive.
 */
export function testEngine(): Engine {
  const g = globalThis as { [ENGINE_KEY]?: Engine };
  // Test runs load the machine (parallel workers): allow an evaluation 2 minutes, not the usual 30 s.
  g[ENGINE_KEY] ??= new Engine({ timeoutMs: Number(process.env.OPM_ENGINE_TIMEOUT_MS) || 120_000 });
  return g[ENGINE_KEY];
}

const WARM_KEY = Symbol.for("opm-ts.testing.warm");

/**
 * Loads the shared test engine and warms it with one small render (a StatelessWorkload with Expose), once
 * per process. The first render in a process costs several times a later one (the evaluator
 * loads, the catalog is compiled for the first time); warming moves that cost out of the first
 * test. `opm-ts/testing/vitest` awaits it while vitest imports the test file; otherwise call it
 * in `beforeAll`.
 */
export function warmTestEngine(): Promise<void> {
  const g = globalThis as { [WARM_KEY]?: Promise<void> };
  g[WARM_KEY] ??= (async () => {
    const engine = testEngine();
    await engine.start();
    const warm = defineModule({
      metadata: { modulePath: "opm.dev/testing", name: "warm-up", version: "0.0.0" },
      config: {},
      components: () => ({
        app: StatelessWorkload({ container: { image: "warm-up", ports: { http: { targetPort: 8080 } } } }).with(
          Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }),
        ),
      }),
    });
    await render(warm.release({}), { engine });
  })();
  return g[WARM_KEY];
}

/** The release settings of `renderForTest`: required exactly when the module has required values. */
export type TestRelease<S extends ConfigShape> =
  // biome-ignore lint/complexity/noBannedTypes: `{} extends T` is the test for "every key of T is optional", not a use of `{}` as a value type.
  {} extends ValuesOf<S> ? [release?: ReleaseOptions<S>, options?: RenderOptions] : [release: ReleaseOptions<S>, options?: RenderOptions];

/**
 * Renders a module (released with the given name, namespace and values; defaults: the module
 * name, namespace `default`, no values) on the shared test engine.
 *
 * @example
 * ```ts
 * const out = await renderForTest(hello, { namespace: "demo", values: { replicas: 3 } });
 * expect(out).toContainObject("Deployment", "hello-web");
 * ```
 */
export function renderForTest<S extends ConfigShape>(module: Module<S>, ...release: TestRelease<S>): Promise<RenderResult>;
/** Renders a release, or a CUE module loaded with `loadCueModule`, on the shared test engine. */
export function renderForTest(input: ModuleRelease<any> | CueModuleInput, options?: RenderOptions): Promise<RenderResult>;
export function renderForTest(input: Module<any> | ModuleRelease<any> | CueModuleInput, ...rest: unknown[]): Promise<RenderResult> {
  const isModule = typeof (input as Partial<Module<any>>).release === "function";
  const release = isModule ? (input as Module<any>).release((rest[0] ?? {}) as ReleaseOptions<any>) : input;
  const options = (isModule ? rest[1] : rest[0]) as RenderOptions | undefined;
  return render(release as ModuleRelease<any> | CueModuleInput, { engine: testEngine(), ...options });
}
