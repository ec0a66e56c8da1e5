/**
 * Chart rendering without a browser or canvas: Vega-Lite compiles a spec, vega
 * lays it out headless and writes SVG; resvg rasterizes that same SVG to PNG.
 * vega measures text with the embedded font's advance widths (through pdfkit)
 * instead of its canvas-less estimate, so its layout fits what the PDF and the
 * PNG draw.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY, type ReportFonts, type TextMeasurer } from './fonts.js';

/** A rendered chart: SVG text and its size in px (drawn 1 px = 1 pt in the PDF). */
export interface Chart {
  svg: string;
  width: number;
  height: number;
}

interface VegaTextItem {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
}

type VegaTextMetrics = { width: (item: VegaTextItem, text?: unknown) => number };

function isBold(weight: string | number | undefined): boolean {
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

/** Warnings of vega and vega-lite go to a list instead of the console. */
function collectingLogger(warnings: string[]): vega.LoggerInterface {
  return vega.logger(vega.Warn, undefined, (_method, level, args) => warnings.push(`${level} ${args.map(String).join(' ')}`));
}

/** Reads the pixel size vega wrote on the root `<svg>` element. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
  if (!Number.isFinite(width) || !Number.isFinite(height)) throw new Error('rendered SVG has no width/height');
  return { width, height };
}

/**
 * Compiles a Vega-Lite spec and renders it to SVG headless. vega's module-wide
 * text measurement is pointed at the report font for the duration of the call.
 */
export async function renderChart(spec: TopLevelSpec, measure: TextMeasurer, warnings: string[] = []): Promise<Chart> {
  const metrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  const previous = metrics.width;
  metrics.width = (item, text) => {
    const value = text ?? item.text;
    const line = Array.isArray(value) ? value.join(' ') : value == null ? '' : `${value as string | number}`;
    return measure(line, item.fontSize ?? 11, isBold(item.fontWeight));
  };
  try {
    const logger = collectingLogger(warnings);
    const compiled = compile(spec, { logger }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
    try {
      const svg = await view.toSVG();
      return { svg, ...svgSize(svg) };
    } finally {
      view.finalize();
    }
  } finally {
    metrics.width = previous;
  }
}

/**
 * Rasterizes a chart's SVG with the report font only (no system fonts), scaled
 * so both sides are at least `minSide` px (and at least 2x for sharp text).
 */
export function renderPng(chart: Chart, fonts: ReportFonts, minSide = 500): { png: Buffer; width: number; height: number } {
  const zoom = Math.max(2, minSide / Math.min(chart.width, chart.height));
  const resvg = new Resvg(chart.svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { fontFiles: [fonts.regularFile, fonts.boldFile], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
  });
  const image = resvg.render();
  return { png: image.asPng(), width: image.width, height: image.height };
}
