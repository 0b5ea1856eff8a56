/**
 * The engine worker's source. It is evaluated with `new Worker(code, { eval: true })`
 * so that it runs the same way from TypeScript sources, the built package and tests.
 * The worker loads cue-wasm once and answers `{ id, op, source }` messages.
 */
export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
let cuePromise;
function load() {
  if (!cuePromise) {
    cuePromise = import(workerData.cueWasmUrl).then((m) => (m.default && m.default.init ? m.default : m).init());
  }
  return cuePromise;
}
function message(e) {
  if (typeof e === "string") return e;
  if (e && typeof e.message === "string") return e.message;
  try { return String(e); } catch { return "unknown error"; }
}
parentPort.on("message", async (msg) => {
  if (msg.op === "init") {
    try { await load(); parentPort.postMessage({ id: msg.id, ok: true, value: "" }); }
    catch (e) { parentPort.postMessage({ id: msg.id, ok: false, error: message(e), fatal: true }); }
    return;
  }
  let cue;
  try { cue = await load(); }
  catch (e) { parentPort.postMessage({ id: msg.id, ok: false, error: message(e), fatal: true }); return; }
  const started = performance.now();
  try {
    const value = msg.op === "openapi" ? cue.toOpenAPI(msg.source) : cue.toJSON(msg.source);
    parentPort.postMessage({ id: msg.id, ok: true, value, ms: performance.now() - started });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: message(e), ms: performance.now() - started });
  }
});
`;
