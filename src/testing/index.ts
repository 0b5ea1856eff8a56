/**
 * Helpers for tests that assert on rendered output. Import from `opm-ts/testing`.
 * @packageDocumentation
 */
import type { Module, ModuleRelease } from "../../dsl/module.js";
import { render, type CueModuleInput, type RenderOptions } from "../render/render.js";
import type { K8sObject, RenderResult } from "../render/types.js";

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
