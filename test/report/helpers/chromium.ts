import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

/** Debian's chromium (installed by .ci/system-deps), driven headless with a fresh profile and no network. */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PageVisit {
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests the page made beyond its own file (a self-contained page makes none). */
  requests: string[];
  /** How far the page is wider than the viewport, px (0: no horizontal scrolling). */
  overflowX: number;
  png: Buffer;
}

/** Opens a local HTML file offline, collects console and page errors and other requests, screenshots the page. */
export async function visit(file: string, width = 1100, height = 1400): Promise<PageVisit> {
  const profile = mkdtempSync(join(tmpdir(), 'neox-chromium-'));
  // A fresh --user-data-dir: playwright passes the profile directory itself.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, viewport: { width, height }, offline: true });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const out: PageVisit = { consoleErrors: [], pageErrors: [], requests: [], overflowX: 0, png: Buffer.alloc(0) };
    const own = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error') out.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => out.pageErrors.push(e.message));
    page.on('request', (r) => {
      if (r.url() !== own) out.requests.push(r.url());
    });
    await page.goto(own, { waitUntil: 'load' });
    // A string expression: it runs in the page, whose DOM types this Node project does not load.
    out.overflowX = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    out.png = await page.screenshot({ fullPage: false, type: 'png' });
    return out;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** A PNG (8-bit RGB or RGBA, non-interlaced, as Chromium writes them) decoded to its pixels with zlib. */
export function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (color !== 2 && color !== 6)) throw new Error(`unsupported PNG (depth ${depth}, colour type ${color}, interlace ${interlace})`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter];
      if (pred === undefined) throw new Error(`bad PNG filter ${filter}`);
      pixels[y * stride + x] = (line[x]! + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Distinct colours and the share of pixels that are not (near) white. */
export function pixelStats(img: ReturnType<typeof decodePng>): { colors: number; nonWhite: number } {
  const colors = new Set<number>();
  let nonWhite = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const o = i * img.channels;
    const [r, g, b] = [img.pixels[o]!, img.pixels[o + 1]!, img.pixels[o + 2]!];
    colors.add((r << 16) | (g << 8) | b);
    if (r < 245 || g < 245 || b < 245) nonWhite++;
  }
  return { colors: colors.size, nonWhite: nonWhite / n };
}
