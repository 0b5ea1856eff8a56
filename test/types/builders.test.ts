/**
 * Type-level tests: they run under `tsc --noEmit -p .` (npm run typecheck). Every
 * `@ts-expect-error` line must fail to compile; the rest must compile.
 */
import { describe, expectTypeOf, it } from "vitest";
import { component, config, defineModule, type Component, type Ref } from "opm-ts";
import {
  Container,
  DaemonWorkload,
  Expose,
  HttpRoute,
  Ingress,
  Scaling,
  StatelessWorkload,
  TaskWorkload,
  type ExposeSpec,
  type TraitPart,
} from "opm-ts/catalog";

const cfg = {
  image: undefined as unknown as Ref<string>,
  replicas: undefined as unknown as Ref<number>,
  serviceType: undefined as unknown as Ref<"ClusterIP" | "NodePort" | "LoadBalancer">,
};

// A trait that applies only to a resource no component below has.
declare const OnlyForDatabases: TraitPart<"example.com/traits/backup@v1", "example.com/resources/database@v1">;

describe("generated builders are typed", () => {
  it("correct uses compile", () => {
    const web = StatelessWorkload({
      container: { image: cfg.image, ports: { http: { targetPort: 8080 } } },
      scaling: { count: cfg.replicas },
    }).with(Expose({ type: cfg.serviceType, ports: { http: { targetPort: 8080, exposedPort: 80 } } }));
    expectTypeOf(web).toMatchTypeOf<Component>();
    expectTypeOf(Scaling()).toEqualTypeOf<TraitPart<"opm.dev/catalog/traits/scaling@v1", "opm.dev/catalog/resources/container@v1">>();
    expectTypeOf<ExposeSpec["type"]>().toEqualTypeOf<"ClusterIP" | "NodePort" | "LoadBalancer" | undefined>();
    component(Container({ image: "nginx" })).with(Scaling({ count: 2 }));
    component().with(Container({ image: "nginx" }), Expose({ ports: {} }));
    // A component whose contents are not known to the types accepts any trait.
    const unknown: Component = component();
    const typeOnly = () => unknown.with(OnlyForDatabases); // (checked by tsc, not run)
    expectTypeOf(typeOnly).toBeFunction();
  });

  it("misuse fails to compile", () => {
    // Checked by tsc; not run (the calls below are wrong on purpose).
    const misuse = () => {
      // @ts-expect-error misspelt field
      Container({ imagee: "nginx" });
      // @ts-expect-error missing required field
      Container({});
      // @ts-expect-error wrong type
      Scaling({ count: "3" });
      // @ts-expect-error wrong enum value
      Expose({ type: "Internal", ports: {} });
      // @ts-expect-error config reference of the wrong type (a string where a number is expected)
      Scaling({ count: cfg.image });
      // @ts-expect-error config reference of the wrong type (a number where a string is expected)
      Container({ image: cfg.replicas });
      // @ts-expect-error a trait on a component without the resource it applies to
      StatelessWorkload({ container: { image: "nginx" } }).with(OnlyForDatabases);
      // @ts-expect-error same, on a component built from parts
      component(Container({ image: "nginx" })).with(Scaling(), OnlyForDatabases);
      // @ts-expect-error a trait on a component with no resources at all
      component().with(Expose({ ports: {} }));
      // @ts-expect-error wrong nested type
      StatelessWorkload({ container: { image: "x", ports: { http: { targetPort: "80" } } } });
    };
    expectTypeOf(misuse).toBeFunction();
  });

  it("config references from a module are typed", () => {
    defineModule({
      metadata: { modulePath: "example.com/m", name: "m", version: "0.1.0" },
      config: { image: config.string(), replicas: config.int().default(1), tier: config.enum(["ClusterIP", "NodePort"]) },
      components: (c) => ({
        web: StatelessWorkload({ container: { image: c.image }, scaling: { count: c.replicas } }).with(Expose({ type: c.tier, ports: {} })),
        // @ts-expect-error cfg.image (string) where a number is expected
        bad: StatelessWorkload({ container: { image: c.image }, scaling: { count: c.image } }),
      }),
    });
  });

  it("combinations no transformer can render fail to compile", () => {
    const meta = { modulePath: "example.com/m", name: "m", version: "0.1.0" };
    const container = { image: "nginx", ports: { http: { targetPort: 8080 } } };
    // Correct: Ingress and HTTPRoute with the Expose they route to (in either order); Scaling on a stateless workload.
    defineModule({
      metadata: meta,
      components: () => ({
        a: StatelessWorkload({ container })
          .with(Expose({ ports: { http: { targetPort: 8080 } } }))
          .with(Ingress({ paths: [{ port: "http" }] })),
        b: StatelessWorkload({ container })
          .with(Ingress({ paths: [{ port: "http" }] }))
          .with(Expose({ ports: { http: { targetPort: 8080 } } })),
        c: StatelessWorkload({ container }).with(
          Expose({ ports: { http: { targetPort: 8080 } } }),
          HttpRoute({ gateways: [{ name: "gw" }], rules: [{ port: "http" }] }),
        ),
        d: StatelessWorkload({ container, scaling: { auto: { min: 1, max: 3 } } }),
        e: DaemonWorkload({ container }),
      }),
    });
    defineModule({
      metadata: meta,
      components: () => ({
        // @ts-expect-error an Ingress without the Expose trait whose Service it routes to
        web: StatelessWorkload({ container }).with(Ingress({ paths: [{ port: "http" }] })),
      }),
    });
    defineModule({
      metadata: meta,
      components: () => ({
        // @ts-expect-error an HTTPRoute without Expose
        web: StatelessWorkload({ container }).with(HttpRoute({ gateways: [{ name: "gw" }], rules: [{ port: "http" }] })),
      }),
    });
    defineModule({
      metadata: meta,
      components: () => ({
        // @ts-expect-error autoscaling on a daemon (one pod per node: nothing to scale)
        agent: DaemonWorkload({ container }).with(Scaling({ auto: { min: 1, max: 3 } })),
      }),
    });
    defineModule({
      metadata: meta,
      components: () => ({
        // @ts-expect-error Scaling on a task (a Job runs to completion)
        job: TaskWorkload({ container: { image: "busybox" } }).with(Scaling({ count: 2 })),
      }),
    });
  });

  it("arithmetic on a config reference fails to compile", () => {
    defineModule({
      metadata: { modulePath: "example.com/m", name: "m", version: "0.1.0" },
      config: { replicas: config.int().default(1) },
      components: (c) => ({
        // @ts-expect-error a reference is symbolic until a release fills it in: no arithmetic in TypeScript
        web: StatelessWorkload({ container: { image: "nginx" }, scaling: { count: c.replicas * 2 } }),
      }),
    });
  });
});
