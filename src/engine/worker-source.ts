/**
 * The engine worker's source. It is evaluated with `new Worker(code, { eval: true })`
 * so that it runs the same way from TypeScript sources, the built package and tests.
 *
 * The worker runs cue-wasm's own Go runtime glue (`wasm_exec`) and the cue-wasm
 * WebAssembly module, compiled by the parent thread and posted to the worker as a
 * `WebAssembly.Module` (so a replacement worker does not compile it again). It then
 * answers `{ id, op, source }` messages with `{ id, ok, value | error, ms }`.
 *
 * When the Go program exits (a panic inside the evaluator), later calls cannot be
 * answered: the worker reports the crash with `fatal: true` and exits, and the parent
 * starts a new one.
 */
// biome-ignore lint/complexity/noUselessStringRaw: the worker's program text must stay verbatim if it ever gains a backslash (a regex, an escape).
export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
let output = "";
let api;
let go;
let moduleResolve;
const modulePromise = new Promise((resolve) => { moduleResolve = resolve; });

async function load() {
  globalThis.CueWasmAPI = globalThis.CueWasmAPI || {};
  await import(workerData.wasmExecUrl);
  // The Go runtime writes panics and prints through globalThis.fs (a stub that
  // wasm_exec installs): capture them so a crash is reported as data, not on stdout.
  globalThis.fs.writeSync = (fd, buf) => { output += new TextDecoder().decode(buf); return buf.length; };
  const mod = await modulePromise;
  go = new Go();
  go.exit = () => {}; // a crash is reported with the captured output instead
  const instance = await WebAssembly.instantiate(mod, go.importObject);
  go.run(instance);
  api = globalThis.CueWasmAPI;
  if (typeof api._toJSONImpl !== "function") throw new Error("cue-wasm did not register its API");
}
let ready;

function message(e) {
  if (typeof e === "string") return e;
  if (e && typeof e.message === "string") return e.message;
  try { return String(e); } catch { return "unknown error"; }
}

function crashed(id, e) {
  const text = output.trim() || message(e);
  parentPort.postMessage({ id, ok: false, error: text, fatal: true });
  setImmediate(() => process.exit(70));
}

parentPort.on("message", async (msg) => {
  if (msg.op === "module") { moduleResolve(msg.module); return; }
  if (!ready) ready = load();
  try { await ready; }
  catch (e) { parentPort.postMessage({ id: msg.id, ok: false, error: message(e), fatal: true, init: true }); return; }
  if (msg.op === "init") { parentPort.postMessage({ id: msg.id, ok: true, value: "" }); return; }
  const started = performance.now();
  let r;
  try {
    output = "";
    r = msg.op === "openapi" ? api._toOpenAPIImpl(msg.source) : api._toJSONImpl(msg.source);
  } catch (e) {
    crashed(msg.id, e);
    return;
  }
  if (go.exited || !r) { crashed(msg.id, new Error("the CUE evaluator exited")); return; }
  const ms = performance.now() - started;
  if (r.error) parentPort.postMessage({ id: msg.id, ok: false, error: message(r.error), ms });
  else parentPort.postMessage({ id: msg.id, ok: true, value: r.value, ms });
});
`;
