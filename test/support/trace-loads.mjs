// Preloaded with `node --import`: prints every module URL the process loads to stderr, one per
// line after "load ", so tests can check what a command imports.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(
      `export async function load(url, context, next) { const r = await next(url, context); process.stderr.write("load " + url + "\\n"); return r; }`,
    ),
);
