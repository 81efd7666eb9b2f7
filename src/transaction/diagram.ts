/**
 * Mermaid state diagram generated from a machine definition, so the picture in the README can never drift from
 * the code: a test compares the README block with this output.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

function label(eventType: string, guard: string | undefined): string {
  let text = eventType
    .replace(/^xstate\.done\.actor\.(.+)$/, '$1 done')
    .replace(/^xstate\.error\.actor\.(.+)$/, '$1 failed')
    .replace(/^xstate\.after\.([^.]+)\..*$/, 'after $1');
  if (text === '') text = 'always';
  return guard ? `${text} [${guard}]` : text;
}

function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String((guard as { type: unknown }).type);
  if (typeof guard === 'function') return 'check';
  return undefined;
}

function nodeName(node: AnyStateNode): string {
  return node.path.join('_') || node.id;
}

export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const walk = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.initial && children.length) {
      const initial = node.initial.target[0];
      if (initial) lines.push(`${indent}[*] --> ${nodeName(initial)}`);
    }
    for (const child of children) {
      if (Object.keys(child.states).length) {
        lines.push(`${indent}state ${nodeName(child)} {`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
      const seen = new Set<string>();
      const emit = (
        eventType: string,
        transitions: ReadonlyArray<{ target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown }>,
      ) => {
        for (const t of transitions) {
          for (const target of t.target ?? []) {
            const line = `${indent}${nodeName(child)} --> ${nodeName(target)}: ${label(eventType, guardName(t.guard))}`;
            if (!seen.has(line)) {
              seen.add(line);
              lines.push(line);
            }
          }
        }
      };
      for (const [eventType, transitions] of child.transitions) emit(eventType, transitions);
      if (child.always) emit('', child.always);
      if (child.type === 'final') lines.push(`${indent}${nodeName(child)} --> [*]`);
    }
  };
  walk(machine.root, '  ');
  return lines.join('\n');
}
