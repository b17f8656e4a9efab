/**
 * NCCL's binary and double binary trees over the nodes of a communicator (src/graph/trees.cc ncclGetBtree,
 * ncclGetDtree). Tree 0 is a binary tree that alternates leaves and inner nodes; tree 1 is its mirror
 * (even node counts) or its shift by one (odd counts), so each node is a leaf in one tree and inner in the
 * other, and the two trees together spread the traffic evenly.
 */
export interface TreeNode {
  /** Parent node, -1 at the root. */
  up: number;
  /** Children, -1 where absent. The root has only its second child. */
  down: [number, number];
}

/** Node `rank`'s place in the binary tree of `n` nodes rooted at 0. */
export function btree(n: number, rank: number): TreeNode {
  let bit = 1;
  while (bit < n && !(bit & rank)) bit <<= 1;
  if (rank === 0) return { up: -1, down: [-1, n > 1 ? bit >> 1 : -1] };
  let up = (rank ^ bit) | (bit << 1);
  if (up >= n) up = rank ^ bit;
  let lowbit = bit >> 1;
  const down0 = lowbit === 0 ? -1 : rank - lowbit;
  let down1 = lowbit === 0 ? -1 : rank + lowbit;
  while (down1 >= n) {
    lowbit >>= 1;
    down1 = lowbit === 0 ? -1 : rank + lowbit;
  }
  return { up, down: [down0, down1] };
}

/** Node `rank`'s place in tree 0 and tree 1 of the double binary tree of `n` nodes. */
export function dtree(n: number, rank: number): [TreeNode, TreeNode] {
  const t0 = btree(n, rank);
  const map = (f: (x: number) => number, t: TreeNode): TreeNode => ({
    up: t.up === -1 ? -1 : f(t.up),
    down: [t.down[0] === -1 ? -1 : f(t.down[0]), t.down[1] === -1 ? -1 : f(t.down[1])],
  });
  if (n % 2 === 1) {
    const shifted = btree(n, (rank - 1 + n) % n);
    return [t0, map((x) => (x + 1) % n, shifted)];
  }
  return [t0, map((x) => n - 1 - x, btree(n, n - 1 - rank))];
}
