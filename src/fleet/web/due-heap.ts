/** A binary min-heap of (time, key): which table rows are due for a recompute next. */
export interface Due {
  at: number;
  key: string;
}

export class DueHeap {
  private readonly items: Due[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Due | undefined {
    return this.items[0];
  }

  push(item: Due): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent];
      if (!p || p.at <= item.at) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  pop(): Due | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const left = a[l];
      const right = a[r];
      const child = right !== undefined && left !== undefined && right.at < left.at ? r : l;
      const c = a[child];
      if (!c || c.at >= last.at) break;
      a[i] = c;
      i = child;
    }
    a[i] = last;
    return top;
  }
}
