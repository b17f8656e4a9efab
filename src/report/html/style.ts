/** The report's stylesheet (inline: the file must open offline; system fonts only). */
export const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0; background: #fff; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { border-bottom: 1px solid #ddd; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 26px 0 8px; } h3 { font-size: 15px; margin: 14px 0 4px; }
.meta, .caption, .note, footer { color: #555; font-size: 13px; }
.summary { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 6px; padding: 4px 16px 12px; margin-top: 16px; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
.table-wrap { overflow-x: auto; }
th, td { border-bottom: 1px solid #e1e4e8; padding: 3px 5px; text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
td:last-child { white-space: normal; min-width: 13em; }
th:nth-child(8), td:nth-child(8), th:nth-child(9), td:nth-child(9), th:nth-child(10), td:nth-child(10), th:last-child, td:last-child { text-align: left; }
tr.best td { background: #eaf5ea; } tr.reference td { background: #fdf1e4; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg.chart text { fill: #333; }
.axis-title { font-size: 12px; } .value, .note { font-size: 11px; } .line-label { font-size: 11px; fill: #a33; }
line.limit { stroke: #a33; stroke-width: 1.5; } line.usable { stroke: #a33; stroke-dasharray: 4 3; }
path.pareto { fill: none; stroke: #222; stroke-width: 1.5; } path.series { fill: none; stroke: #4e79a7; stroke-width: 2; } path.series.reference { stroke: #f28e2b; }
line.current { stroke: #888; stroke-dasharray: 3 3; }
circle.pt.fits { fill: #4e79a7; } circle.pt.over { fill: #e15759; } circle.pt.best { fill: #59a14f; stroke: #222; } circle.pt.reference { fill: #f28e2b; stroke: #222; }
text.skipped { fill: #999; font-size: 14px; }
`;
