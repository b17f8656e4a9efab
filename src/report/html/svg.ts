import { D3Node } from 'd3-node';

/**
 * A chart canvas: an SVG drawn with d3-node (d3 on jsdom) with a plot area inside margins, a title and an
 * accessible description. Text set with d3's `.text()` is escaped when the SVG is serialized.
 */
export interface Chart {
  d3: any;
  /** The plot area (translated by the margins). */
  plot: any;
  svg: any;
  width: number;
  height: number;
  /** Plot area size. */
  w: number;
  h: number;
  toString(): string;
}

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export function chart(title: string, description: string, width: number, height: number, margin: Margin): Chart {
  const d3n = new D3Node();
  const svg = d3n.createSVG(width, height, { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' });
  svg.append('title').text(title);
  svg.append('desc').text(description);
  const plot = svg.append('g').attr('transform', `translate(${margin.left},${margin.top})`);
  return { d3: d3n.d3, plot, svg, width, height, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom, toString: () => d3n.svgString() };
}

/** Axis titles: below the x axis (legends go under it, from `LEGEND_TOP`) and rotated beside the y axis. */
export function axisTitles(c: Chart, x: string, y: string, margin: Margin): void {
  c.plot.append('text').attr('class', 'axis-title').attr('x', c.w / 2).attr('y', c.h + 34).attr('text-anchor', 'middle').text(x);
  c.plot.append('text').attr('class', 'axis-title').attr('transform', `translate(${-margin.left + 14},${c.h / 2}) rotate(-90)`).attr('text-anchor', 'middle').text(y);
}

/** Where a legend starts below the plot area. */
export const LEGEND_TOP = 56;

/** A row of colour swatches with labels, starting at (x, y) in plot coordinates, wrapping at `maxWidth`. */
export function legend(c: Chart, items: { label: string; color: string }[], x: number, y: number, maxWidth = c.w): void {
  const g = c.plot.append('g').attr('class', 'legend');
  let cx = x;
  let cy = y;
  for (const it of items) {
    const w = 18 + 6.2 * it.label.length + 14;
    if (cx + w > x + maxWidth && cx > x) {
      cx = x;
      cy += 16;
    }
    g.append('rect').attr('x', cx).attr('y', cy - 9).attr('width', 12).attr('height', 12).attr('fill', it.color);
    g.append('text').attr('x', cx + 16).attr('y', cy + 1).text(it.label);
    cx += w;
  }
}

/** Phase and communication colours shared by the step charts. */
export const COLORS = {
  forward: '#4e79a7', recompute: '#a0cbe8', backward: '#f28e2b', optimizer: '#59a14f',
  tp: '#e15759', pp: '#b07aa1', dp: '#76b7b2', bubble: '#cfcfcf',
} as const;
