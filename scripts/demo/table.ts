// A plain-text table for the demo: columns padded to their widest cell (measured without ANSI
// colour codes), a rule under the header, optional colour per cell.

export interface Cell {
  text: string;
  /** An ANSI SGR code such as '32' (green); ignored when colour is off. */
  colour?: string;
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function paint(text: string, code: string | undefined, colour: boolean): string {
  return colour && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function width(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

export function renderTable(header: string[], rows: Cell[][], options: { colour: boolean; indent?: string }): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]?.text ?? ''))));
  const indent = options.indent ?? '  ';
  const line = (cells: Cell[]): string =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i] - width(c.text));
        return i === cells.length - 1 ? paint(c.text, c.colour, options.colour) : paint(c.text, c.colour, options.colour) + pad;
      })
      .join('  ')
      .trimEnd();
  const head = line(header.map((text) => ({ text, colour: '1' })));
  const rule = indent + widths.map((w) => '─'.repeat(w)).join('  ');
  return [head, rule, ...rows.map(line)].join('\n') + '\n';
}
