/** The journal commands' plain tables: columns padded to their widest cell, two spaces apart, no trailing blanks. */

/** A cell from free text: control characters become spaces, so one row stays one line. */
export function cellText(text: string | null): string {
  return (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

export function textTable(head: readonly string[], cells: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...cells.map(line)].join('\n')}\n`;
}
