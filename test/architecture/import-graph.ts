// The import graph of the source folders, read from the code itself (TypeScript's own pre-processor:
// static imports, re-exports, `import()` with a literal, `import x = require()`), for the layering tests.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  from: string;
  /** A repository-relative path for a relative import, else the bare specifier (`node:fs`, `@aws-sdk/client-s3`). */
  to: string;
  local: boolean;
}

const SOURCE = /\.(ts|js|mjs)$/;

export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  for (const folder of folders) {
    for (const e of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) files.push(relative(root, join(e.parentPath, e.name)));
    }
  }
  return files.sort();
}

export function importsOf(root: string, file: string): ImportEdge[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName }) =>
    fileName.startsWith('.') ? { from: file, to: normalize(join(dirname(file), fileName)), local: true } : { from: file, to: fileName, local: false },
  );
}

/** Every group of files that import each other in a loop (strongly connected components of size > 1, or a file importing itself). */
export function cycles(files: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (e.local && next.has(e.to)) next.get(e.from)!.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next.get(v)!.includes(v)) found.push(scc.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return found;
}
