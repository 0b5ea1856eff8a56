/** A small unified line diff (Myers' O(ND) algorithm). Enough for Kubernetes objects; no dependency. */

type Op = { t: " " | "-" | "+"; line: string };

function myers(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Map<number, number>([[1, 0]]);
  const trace: Map<number, number>[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(new Map(v));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1)) ? v.get(k + 1)! : v.get(k - 1)! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v.set(k, x);
      if (x >= n && y >= m) break outer;
    }
  }
  // Backtrack.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vv = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && (vv.get(k - 1) ?? -1) < (vv.get(k + 1) ?? -1)) ? k + 1 : k - 1;
    const prevX = vv.get(prevK) ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ t: " ", line: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ t: "+", line: b[y - 1]! });
      else ops.push({ t: "-", line: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

export interface UnifiedDiffOptions {
  fromFile?: string;
  toFile?: string;
  context?: number;
}

/** Unified diff of two texts; empty string when equal. */
export function unifiedDiff(before: string, after: string, opts: UnifiedDiffOptions = {}): string {
  if (before === after) return "";
  const a = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const b = after === "" ? [] : after.replace(/\n$/, "").split("\n");
  const ops = myers(a, b);
  const ctx = opts.context ?? 3;
  const out: string[] = [`--- ${opts.fromFile ?? "live"}`, `+++ ${opts.toFile ?? "desired"}`];
  // Group ops into hunks.
  let i = 0;
  const changeIdx = ops.map((o, idx) => (o.t === " " ? -1 : idx)).filter((x) => x >= 0);
  if (changeIdx.length === 0) return "";
  while (i < changeIdx.length) {
    let start = Math.max(0, changeIdx[i]! - ctx);
    let end = Math.min(ops.length, changeIdx[i]! + ctx + 1);
    while (i + 1 < changeIdx.length && changeIdx[i + 1]! - ctx <= end) {
      i++;
      end = Math.min(ops.length, changeIdx[i]! + ctx + 1);
    }
    // line numbers
    let aLine = 1;
    let bLine = 1;
    for (let j = 0; j < start; j++) {
      if (ops[j]!.t !== "+") aLine++;
      if (ops[j]!.t !== "-") bLine++;
    }
    const slice = ops.slice(start, end);
    const aCount = slice.filter((o) => o.t !== "+").length;
    const bCount = slice.filter((o) => o.t !== "-").length;
    out.push(`@@ -${aCount ? aLine : aLine - 1},${aCount} +${bCount ? bLine : bLine - 1},${bCount} @@`);
    for (const o of slice) out.push(`${o.t}${o.line}`);
    i++;
    start = end;
  }
  return out.join("\n") + "\n";
}
