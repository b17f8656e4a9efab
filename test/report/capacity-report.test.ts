import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { decodePng, pixelStats, visit } from './helpers/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-report-'));
// User strings that must come out as text: the model label is the config file's name.
const evil = `<script>alert(1)<script>&"'`;
const config = join(dir, `${evil}.yml`);
const report = join(dir, 'out', 'tiny.html');
let html = '';

beforeAll(() => {
  const exp = runCli(['model', 'export', 'neox-tiny', '--out', config]);
  expect(exp.status, exp.stderr).toBe(0);
  const r = runCli(['plan', '--config', config, '--nodes', '1', '--global-batch', '16', '--top', '3', '--zero', '0,1', '--no-progress', '--price-per-gpu-hour', '1.8', '--report', report]);
  expect(r.status, r.stderr).toBe(0);
  html = readFileSync(report, 'utf8');
});

describe('HTML capacity report', () => {
  it('is one self-contained file: inline CSS and SVG, no scripts, no external resources', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toMatch(/<style>[^<]+<\/style>/);
  });

  it('escapes user strings (model and file names) everywhere', () => {
    expect(html).toContain('&lt;script&gt;alert(1)&lt;script&gt;&amp;&quot;&#39;');
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<script>alert');
  });

  it('opens with the plain-language summary, then the ranked plans and every chart', () => {
    const order = ['How long the run takes', 'Where the time goes', 'What would help most', 'Ranked plans', 'Memory per GPU', 'Step-time breakdown', 'Pipeline timeline', 'Plan space', 'Link utilisation', 'Total hours against cluster size'];
    const at = order.map((s) => html.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).toMatch(/takes about [\d.,]+ hours \([\d.,]+ days, [\d.,]+ GPU-hours, \$[\d.,]+\) with the best plan found: TP \d × PP \d × DP \d/);
    // The chart titles and axes are there for readers (and screen readers).
    for (const t of ['Peak memory per GPU by pipeline stage', 'GB at the peak', 'seconds into the step', 'peak memory per GPU (GB)', 'utilisation over the step (%)', 'total hours for the run']) expect(html).toContain(t);
    expect((html.match(/<tr class="best">/g) ?? []).length).toBe(1);
  });

  it('--report without a file writes reports/<cluster>-<model>.html', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'neox-report-default-'));
    const r = runCli(['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '16', '--top', '1', '--tp', '1', '--pp', '1', '--zero', '1', '--recompute', 'full', '--no-progress', '--report'], { cwd });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(cwd, 'reports', 'supermicro12-nodes-1-neox-tiny.html'))).toBe(true);
  });

  it('renders in headless Chromium with no console or page errors, no requests, and a non-blank page', async () => {
    const v = await visit(report);
    expect(v.consoleErrors).toEqual([]);
    expect(v.pageErrors).toEqual([]);
    expect(v.overflowX, 'the page fits the 1,100 px viewport without scrolling sideways').toBe(0);
    expect(v.requests).toEqual([]);
    const stats = pixelStats(decodePng(v.png));
    expect(stats.colors).toBeGreaterThan(100);
    expect(stats.nonWhite).toBeGreaterThan(0.03);
  });
});
