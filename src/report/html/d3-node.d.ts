/** d3-node 4 ships no types: the part of its API the report uses (selections stay untyped, as d3's are here). */
declare module 'd3-node' {
  export class D3Node {
    constructor(options?: { styles?: string });
    /** The d3 module d3-node renders with (d3 7). */
    readonly d3: any;
    createSVG(width: number, height: number, attrs?: Record<string, string | number>): any;
    svgString(): string;
  }
}
