/** Dinic's maximum flow on a small directed graph; used to measure a fabric's bisection bandwidth. */
export class FlowNetwork {
  private readonly head: number[];
  private readonly to: number[] = [];
  private readonly cap: number[] = [];
  private readonly next: number[] = [];

  constructor(readonly size: number) {
    this.head = new Array<number>(size).fill(-1);
  }

  addEdge(from: number, to: number, capacity: number): void {
    for (const [a, b, c] of [[from, to, capacity], [to, from, 0]] as const) {
      this.to.push(b);
      this.cap.push(c);
      this.next.push(this.head[a]!);
      this.head[a] = this.to.length - 1;
    }
  }

  maxFlow(source: number, sink: number): number {
    let total = 0;
    const level = new Array<number>(this.size);
    const iter = new Array<number>(this.size);
    const bfs = (): boolean => {
      level.fill(-1);
      level[source] = 0;
      const queue = [source];
      for (let qi = 0; qi < queue.length; qi++) {
        const v = queue[qi]!;
        for (let e = this.head[v]!; e !== -1; e = this.next[e]!) {
          if (this.cap[e]! > 0 && level[this.to[e]!] === -1) {
            level[this.to[e]!] = level[v]! + 1;
            queue.push(this.to[e]!);
          }
        }
      }
      return level[sink] !== -1;
    };
    const dfs = (v: number, pushed: number): number => {
      if (v === sink) return pushed;
      for (; iter[v] !== -1; iter[v] = this.next[iter[v]!]!) {
        const e = iter[v]!;
        const u = this.to[e]!;
        if (this.cap[e]! > 0 && level[u] === level[v]! + 1) {
          const got = dfs(u, Math.min(pushed, this.cap[e]!));
          if (got > 0) {
            this.cap[e]! -= got;
            this.cap[e ^ 1]! += got;
            return got;
          }
        }
      }
      return 0;
    };
    while (bfs()) {
      for (let v = 0; v < this.size; v++) iter[v] = this.head[v]!;
      for (let f = dfs(source, Infinity); f > 0; f = dfs(source, Infinity)) total += f;
    }
    return total;
  }
}
