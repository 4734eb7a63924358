// The code the sandbox compiles for a CloudFront Function, laid out so that V8's coverage offsets
// are offsets into the file in functions/edge/ (coverage counts what the tests run of the deployed
// files). The deployed code is the file with its settings line(s) written in (`var CONFIG = {...};`,
// functions/edge/source.ts), which changes their length and would shift every offset after them.
// Here each such line becomes `var CONFIG = <parameter>;`, padded with blanks to the file line's
// length, and the value the deployed line holds is passed as that parameter: the same value, bound
// to the same name, by code whose every other character is the file's. Import lines are blanked
// the same way (the sandbox passes the modules as parameters).

/** What to compile: the code, extra parameters (name -> value), and the file it maps onto. */
export interface CoverableSource {
  code: string;
  params: Record<string, unknown>;
}

const SETTING = /^var ([A-Za-z_$][\w$]*) = (\{.*\});$/;

/**
 * The offset-preserving form of `deployed` over `file`, or undefined when the two differ by more
 * than settings lines holding JSON that fit in the file's lines (then the deployed code is compiled
 * as it is, and coverage does not see it).
 */
export function coverableSource(file: string, deployed: string): CoverableSource | undefined {
  const fileLines = file.split('\n');
  const deployedLines = deployed.split('\n');
  if (fileLines.length !== deployedLines.length) return undefined;
  const params: Record<string, unknown> = {};
  const lines: string[] = [];
  for (let i = 0; i < fileLines.length; i++) {
    const original = fileLines[i]!;
    const line = deployedLines[i]!;
    if (line === original) {
      lines.push(line);
      continue;
    }
    const m = SETTING.exec(line);
    if (!m) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(m[2]!);
    } catch {
      return undefined;
    }
    const param = `__deployed_${m[1]}`;
    const replaced = `var ${m[1]} = ${param};`;
    if (replaced.length > original.length || !original.startsWith(`var ${m[1]} =`)) return undefined;
    params[param] = value;
    lines.push(replaced.padEnd(original.length, ' '));
  }
  return { code: lines.join('\n'), params };
}

/** `source` with each line matching `pattern` (no line breaks in a match) replaced by blanks. */
export function blankLines(source: string, pattern: RegExp): string {
  return source.replace(pattern, (line) => ' '.repeat(line.length));
}
