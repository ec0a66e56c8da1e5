/**
 * Lays out the report document (a list of blocks) on A4 pages with pdfkit:
 * the embedded DejaVu font only, charts drawn as vectors by svg-to-pdfkit,
 * tables that repeat their header on a new page and shrink, wrap or
 * ellipsize instead of overflowing, headings kept with what follows, page
 * numbers. Table cells are fitted in time bounded by what fits (text-fit.ts),
 * so a cell of any length costs no more than a short one. Builds the whole
 * file in memory; the caller writes it.
 */
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { characterMeasurer, NO_DEFAULT_FONT, PDF_FONT, type ReportFonts, type TextMeasurer } from './fonts.js';
import type { Chart } from './render.js';
import { fitLine, widthUpTo, wrapLines } from './text-fit.js';

/** Horizontal alignment of a table column. */
export type Align = 'left' | 'right' | 'center';

/** One column of a table block. */
export interface TableColumn {
  header: string;
  align?: Align;
  /** Wrap the cells onto at most this many lines; the column takes the width the others leave. */
  wrap?: number;
}

/** Colour of a banner: healthy, needs a look, failing, or no verdict. */
export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

/** The pieces a report is made of, drawn top to bottom. */
export type Block =
  | { kind: 'title'; text: string; subtitle: string }
  | { kind: 'banner'; text: string; detail?: string; tone: Tone }
  | { kind: 'heading'; text: string }
  /** `keep`: never left at the bottom of a page without the block that follows. */
  | { kind: 'text'; text: string; size?: number; color?: string; keep?: boolean }
  | { kind: 'note'; text: string }
  | { kind: 'facts'; rows: [string, string][] }
  | { kind: 'metrics'; items: { label: string; value: string; detail?: string }[] }
  | { kind: 'table'; columns: TableColumn[]; rows: string[][]; caption?: string }
  | { kind: 'charts'; charts: Chart[] }
  /** Small charts in a grid, `columns` a row, each with a caption below it. */
  | { kind: 'chartGrid'; columns: number; items: { chart: Chart; caption: string }[] }
  | { kind: 'pageBreak' };

/** A whole report: metadata, the running footer and the blocks. */
export interface ReportDocument {
  title: string;
  subject: string;
  /** Left part of every page's footer (the right part is "Page i of n"). */
  footer: string;
  createdAt: Date;
  blocks: Block[];
}

const PAGE = { size: 'A4', margin: { top: 48, bottom: 56, left: 50, right: 50 } } as const;
const INK = '#1f2933';
const MUTED = '#5f6b7a';
const RULE = '#c9d1db';
const TABLE = {
  fontSize: 8.5,
  minFontSize: 7,
  padX: 4,
  padY: 3.5,
  header: '#e4e9f0',
  zebra: '#f5f7fa',
  minSplitRows: 6,
  minWrapShare: 0.4,
};
const TONES: Record<Tone, { fill: string; bar: string; ink: string }> = {
  good: { fill: '#e6f4ea', bar: '#2e7d32', ink: '#1b4d22' },
  warn: { fill: '#fff4e0', bar: '#e08a00', ink: '#5c3b00' },
  bad: { fill: '#fde8e8', bar: '#c62828', ink: '#6b1414' },
  neutral: { fill: '#eef3f9', bar: '#5f6b7a', ink: INK },
};

const GRID = { gap: 12, captionSize: 7.5, captionGap: 2, rowGap: 10 };

/** Options of renderPdf. */
export interface RenderOptions {
  /** Hears what svg-to-pdfkit could not draw. */
  onWarning?: (message: string) => void;
  /** Measures text for the layout (default: the document's fonts); tests count its work. */
  measure?: TextMeasurer;
}

type Doc = PDFKit.PDFDocument;

/**
 * A pdfkit document set up for the report: A4, the DejaVu faces registered
 * and no other font. Create it first: its font instances also measure chart
 * text (see characterMeasurer), so each face is parsed once.
 */
export function createPdfDocument(fonts: ReportFonts): Doc {
  const doc = new PDFDocument({ size: PAGE.size, margins: PAGE.margin, bufferPages: true, font: NO_DEFAULT_FONT });
  doc.registerFont(PDF_FONT.regular, fonts.regular);
  doc.registerFont(PDF_FONT.bold, fonts.bold);
  doc.font(PDF_FONT.regular);
  return doc;
}

/** Lays the report out in `doc` (from createPdfDocument), ends it and returns the bytes with the page count. */
export async function renderPdf(doc: Doc, report: ReportDocument, options: RenderOptions = {}): Promise<{ pdf: Buffer; pages: number }> {
  Object.assign(doc.info, {
    Title: report.title,
    Subject: report.subject,
    Author: 'Dynamic Risk Assessment System',
    CreationDate: report.createdAt,
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });

  const layout = new Layout(doc, options.onWarning ?? (() => {}), options.measure ?? characterMeasurer(doc));
  report.blocks.forEach((block, index) => layout.draw(block, report.blocks.slice(index + 1, index + 8)));
  const pages = layout.numberPages(report.footer);
  doc.end();
  await finished;
  return { pdf: Buffer.concat(chunks), pages };
}

/** The cursor over the pages and the drawing of each block kind. */
class Layout {
  private readonly left: number;
  private readonly width: number;
  private readonly geometries = new WeakMap<string[][], TableGeometry>();

  constructor(
    private readonly doc: Doc,
    private readonly onWarning: (message: string) => void,
    private readonly measure: TextMeasurer,
  ) {
    this.left = PAGE.margin.left;
    this.width = doc.page.width - PAGE.margin.left - PAGE.margin.right;
  }

  private get bottom(): number {
    return this.doc.page.height - PAGE.margin.bottom;
  }

  private get atTop(): boolean {
    return this.doc.y <= PAGE.margin.top + 1;
  }

  /** Starts a new page unless `height` still fits below the cursor. */
  private ensure(height: number): void {
    if (this.doc.y + height > this.bottom && !this.atTop) this.newPage();
  }

  private newPage(): void {
    this.doc.addPage();
    this.doc.x = this.left;
    this.doc.y = PAGE.margin.top;
  }

  private font(bold: boolean, size: number, color = INK): Doc {
    return this.doc
      .font(bold ? PDF_FONT.bold : PDF_FONT.regular)
      .fontSize(size)
      .fillColor(color);
  }

  private textHeight(text: string, bold: boolean, size: number, width: number): number {
    return this.font(bold, size).heightOfString(text, { width });
  }

  /** Draws a block; `following` are the next few blocks (what a heading or a kept text must stay with). */
  draw(block: Block, following: Block[]): void {
    switch (block.kind) {
      case 'title':
        return this.drawTitle(block.text, block.subtitle);
      case 'banner':
        return this.drawBanner(block.text, block.detail, block.tone);
      case 'heading':
        return this.drawHeading(block.text, following);
      case 'text':
        return this.drawText(block.text, block.size ?? 9.5, block.color ?? INK, block.keep ? following : []);
      case 'note':
        return this.drawNote(block.text);
      case 'facts':
        return this.drawFacts(block.rows);
      case 'metrics':
        return this.drawMetrics(block.items);
      case 'table':
        return this.drawTable(block.columns, block.rows, block.caption);
      case 'charts':
        return this.drawCharts(block.charts);
      case 'chartGrid':
        return this.drawChartGrid(block.columns, block.items);
      case 'pageBreak':
        if (!this.atTop) this.newPage();
        return;
    }
  }

  /** Height the first of `blocks` needs before a page break makes sense (with what a kept text stays with). */
  private minimumHeight(blocks: Block[], top: number): number {
    const [block, ...rest] = blocks;
    if (!block) return 0;
    switch (block.kind) {
      case 'charts':
        return this.chartBox(block.charts).height;
      case 'chartGrid':
        return this.gridRowHeight(block.columns, block.items.slice(0, block.columns));
      case 'table':
        return this.tableLead(block.columns, block.rows, block.caption, top);
      case 'metrics':
        return this.metricRows(block.items.length) * 62;
      case 'banner':
        return 40;
      case 'facts':
        return 40;
      case 'text': {
        const height = this.textHeight(block.text, false, block.size ?? 9.5, this.width) + 6;
        return block.keep ? height + this.minimumHeight(rest, top + height) : height;
      }
      case 'note':
        return this.textHeight(block.text, false, 8.5, this.width - 16) + 18;
      default:
        return 20;
    }
  }

  private drawTitle(text: string, subtitle: string): void {
    this.font(true, 20).text(text, this.left, this.doc.y, { width: this.width });
    this.doc.y += 2;
    this.font(false, 10, MUTED).text(subtitle, this.left, this.doc.y, { width: this.width });
    this.doc.y += 8;
    this.rule();
    this.doc.y += 10;
  }

  private drawBanner(text: string, detail: string | undefined, tone: Tone): void {
    const colors = TONES[tone];
    const inner = this.width - 22;
    const textHeight = this.textHeight(text, true, 12, inner);
    const detailHeight = detail ? this.textHeight(detail, false, 9, inner) + 3 : 0;
    const height = textHeight + detailHeight + 14;
    this.ensure(height + 8);
    const y = this.doc.y;
    this.doc.rect(this.left, y, this.width, height).fillColor(colors.fill).fill();
    this.doc.rect(this.left, y, 4, height).fillColor(colors.bar).fill();
    this.font(true, 12, colors.ink).text(text, this.left + 14, y + 7, { width: inner });
    if (detail) this.font(false, 9, colors.ink).text(detail, this.left + 14, y + 7 + textHeight + 3, { width: inner });
    this.doc.y = y + height + 8;
  }

  private drawHeading(text: string, following: Block[]): void {
    // Text, 2 pt, the rule, 7 pt: exactly what this method advances the cursor by.
    const height = this.textHeight(text, true, 13, this.width) + 9;
    if (!this.atTop) this.doc.y += 12;
    if (this.doc.y + height + this.minimumHeight(following, this.doc.y + height) > this.bottom && !this.atTop) this.newPage();
    this.font(true, 13).text(text, this.left, this.doc.y, { width: this.width });
    this.doc.y += 2;
    this.rule();
    this.doc.y += 7;
  }

  private rule(): void {
    const y = this.doc.y;
    this.doc
      .moveTo(this.left, y)
      .lineTo(this.left + this.width, y)
      .lineWidth(0.6)
      .strokeColor(RULE)
      .stroke();
  }

  private drawText(text: string, size: number, color: string, keepWith: Block[]): void {
    const height = this.textHeight(text, false, size, this.width);
    this.ensure(
      keepWith.length > 0 ? height + 6 + this.minimumHeight(keepWith, this.doc.y + height + 6) : Math.min(height, 3 * size * 1.3),
    );
    this.font(false, size, color).text(text, this.left, this.doc.y, { width: this.width, lineGap: 1.5 });
    this.doc.y += 6;
  }

  private drawNote(text: string): void {
    const inner = this.width - 16;
    const height = this.textHeight(text, false, 8.5, inner) + 12;
    this.ensure(height + 6);
    const y = this.doc.y;
    this.doc.rect(this.left, y, this.width, height).fillColor('#fff7e0').fill();
    this.doc.rect(this.left, y, 3, height).fillColor('#e0a800').fill();
    this.font(false, 8.5, '#5c4400').text(text, this.left + 10, y + 6, { width: inner });
    this.doc.y = y + height + 6;
  }

  private drawFacts(rows: [string, string][]): void {
    const keyWidth = 118;
    const valueWidth = this.width - keyWidth;
    for (const [key, value] of rows) {
      const height = Math.max(this.textHeight(key, true, 9, keyWidth - 6), this.textHeight(value, false, 9, valueWidth)) + 4;
      this.ensure(height);
      const y = this.doc.y;
      this.font(true, 9, MUTED).text(key, this.left, y, { width: keyWidth - 6 });
      this.font(false, 9).text(value, this.left + keyWidth, y, { width: valueWidth });
      this.doc.y = y + height;
    }
    this.doc.y += 4;
  }

  /** Rows of metric cards: at most three cards a row, so labels and details stay readable. */
  private metricRows(count: number): number {
    return Math.ceil(count / 3);
  }

  private drawMetrics(items: { label: string; value: string; detail?: string }[]): void {
    const gap = 8;
    const rows = this.metricRows(items.length);
    const perRow = Math.ceil(items.length / rows);
    const cardWidth = (this.width - gap * (perRow - 1)) / perRow;
    const height = 54;
    this.ensure(rows * (height + 8));
    const top = this.doc.y;
    items.forEach((item, i) => {
      const x = this.left + (i % perRow) * (cardWidth + gap);
      const y = top + Math.floor(i / perRow) * (height + 8);
      this.doc.roundedRect(x, y, cardWidth, height, 4).fillColor('#eef3f9').fill();
      const inner = cardWidth - 14;
      // Fit first: measuring changes the document's font size.
      const [label, value, detail] = [
        fitLine(item.label, inner, 8, false, this.measure),
        fitLine(item.value, inner, 15, true, this.measure),
        fitLine(item.detail ?? '', inner, 7.5, false, this.measure),
      ];
      this.font(false, 8, MUTED).text(label, x + 7, y + 6, { width: inner, lineBreak: false });
      this.font(true, 15).text(value, x + 7, y + 18, { width: inner, lineBreak: false });
      if (detail) this.font(false, 7.5, MUTED).text(detail, x + 7, y + 39, { width: inner, lineBreak: false });
    });
    this.doc.y = top + rows * (height + 8) + 2;
  }

  private lineHeight(fontSize: number): number {
    return fontSize * 1.2;
  }

  /**
   * The layout of a table, computed once: the font size, the column widths
   * that fill the page width (a smaller font first, then the widest columns
   * cut; wrapped columns take what the others leave), and every cell's lines.
   */
  private tableGeometry(columns: TableColumn[], rows: string[][]): TableGeometry {
    const known = this.geometries.get(rows);
    if (known) return known;
    const pad = 2 * TABLE.padX + 1;
    // Widest cell of each column at size 1 (the header in bold), measured no further than the page is wide.
    const limit = this.width / TABLE.minFontSize;
    const unit = columns.map((column, c) =>
      rows.reduce(
        (widest, row) => Math.max(widest, widthUpTo(row[c] ?? '', 1, false, limit, this.measure)),
        widthUpTo(column.header, 1, true, limit, this.measure),
      ),
    );
    const wraps = columns.map((column) => (column.wrap ?? 0) > 0);
    const wrapCount = wraps.filter(Boolean).length;
    const naturalAt = (size: number): number[] => unit.map((w) => w * size + pad);
    // What a wrapped column needs at least: its natural width, or its share of the page when that is less.
    const wrapFloor = (natural: number[]): number[] =>
      natural.map((w, c) => (wraps[c] ? Math.min(w, (TABLE.minWrapShare * this.width) / wrapCount) : w));
    let fontSize = TABLE.fontSize;
    while (fontSize > TABLE.minFontSize && sum(wrapFloor(naturalAt(fontSize))) > this.width) fontSize -= 0.5;
    const natural = naturalAt(fontSize);
    let widths: number[];
    if (sum(natural) <= this.width) {
      widths = natural.map((w) => (w * this.width) / sum(natural));
    } else {
      const floors = wrapFloor(natural);
      const fixedRoom = this.width - sum(floors.filter((_, c) => wraps[c]));
      const fixed = waterFill(
        natural.filter((_, c) => !wraps[c]),
        fixedRoom,
      );
      let k = 0;
      widths = natural.map((w, c) => (wraps[c] ? w : fixed[k++]));
      // The wrapped columns share what is left, in proportion to their natural widths.
      const left = this.width - sum(widths.filter((_, c) => !wraps[c]));
      const wrapNatural = sum(natural.filter((_, c) => wraps[c]));
      widths = widths.map((w, c) => (wraps[c] ? (left * natural[c]) / wrapNatural : w));
    }
    const inner = widths.map((w) => w - 2 * TABLE.padX);
    const cellLines = (cells: string[], bold: boolean): string[][] =>
      columns.map((column, c) =>
        wraps[c]
          ? wrapLines(cells[c] ?? '', inner[c], fontSize, bold, this.measure, column.wrap!)
          : [fitLine(cells[c] ?? '', inner[c], fontSize, bold, this.measure)],
      );
    const rowHeight = (lines: string[][]): number => Math.max(...lines.map((l) => l.length)) * this.lineHeight(fontSize) + 2 * TABLE.padY;
    const header = cellLines(
      columns.map((column) => column.header),
      true,
    );
    const body = rows.map((row) => cellLines(row, false));
    const geometry: TableGeometry = {
      fontSize,
      widths,
      header: { lines: header, height: rowHeight(header) },
      rows: body.map((lines) => ({ lines, height: rowHeight(lines) })),
    };
    this.geometries.set(rows, geometry);
    return geometry;
  }

  /**
   * One line of already-fitted text aligned in a box. Positioned by hand: with
   * a `width`, pdfkit runs its line wrapper, which shapes every word once more.
   */
  private placeLine(text: string, x: number, y: number, width: number, align: Align, bold: boolean, size: number, color = INK): void {
    const free = width - this.measure(text, size, bold);
    const offset = align === 'right' ? free : align === 'center' ? free / 2 : 0;
    this.font(bold, size, color).text(text, x + Math.max(0, offset), y, { lineBreak: false });
  }

  private drawRow(row: TableRow, columns: TableColumn[], geometry: TableGeometry, header: boolean, fill: string | null): void {
    const { widths, fontSize } = geometry;
    const y = this.doc.y;
    if (fill) this.doc.rect(this.left, y, this.width, row.height).fillColor(fill).fill();
    let x = this.left;
    row.lines.forEach((lines, c) => {
      const inner = widths[c] - 2 * TABLE.padX;
      lines.forEach((line, l) =>
        this.placeLine(
          line,
          x + TABLE.padX,
          y + TABLE.padY + l * this.lineHeight(fontSize),
          inner,
          columns[c].align ?? 'left',
          header,
          fontSize,
        ),
      );
      x += widths[c];
    });
    this.doc.y = y + row.height;
  }

  /**
   * Height a table needs below `top` before it may start there: the whole
   * table when it fits on one page and a break would leave a stub of a few
   * rows on either side, else the caption, the header and a few rows.
   */
  private tableLead(columns: TableColumn[], rows: string[][], caption: string | undefined, top: number): number {
    const geometry = this.tableGeometry(columns, rows);
    const captionHeight = caption ? this.textHeight(caption, false, 8, this.width) + 4 : 0;
    const heights = geometry.rows.map((row) => row.height);
    const whole = captionHeight + geometry.header.height + sum(heights);
    let fitsHere = 0;
    for (
      let room = this.bottom - top - captionHeight - geometry.header.height;
      fitsHere < heights.length && heights[fitsHere] <= room;
      fitsHere++
    )
      room -= heights[fitsHere];
    const stub = Math.min(fitsHere, rows.length - fitsHere);
    if (whole > this.bottom - top && whole <= this.bottom - PAGE.margin.top && stub < TABLE.minSplitRows) return whole;
    return captionHeight + geometry.header.height + sum(heights.slice(0, 3));
  }

  private drawTable(columns: TableColumn[], rows: string[][], caption: string | undefined): void {
    const geometry = this.tableGeometry(columns, rows);
    this.ensure(this.tableLead(columns, rows, caption, this.doc.y));
    if (caption) {
      this.font(false, 8, MUTED).text(caption, this.left, this.doc.y, { width: this.width });
      this.doc.y += 4;
    }
    this.drawRow(geometry.header, columns, geometry, true, TABLE.header);
    geometry.rows.forEach((row, r) => {
      if (this.doc.y + row.height > this.bottom) {
        this.newPage();
        this.drawRow(geometry.header, columns, geometry, true, TABLE.header);
      }
      this.drawRow(row, columns, geometry, false, r % 2 === 1 ? TABLE.zebra : null);
    });
    const end = this.doc.y;
    this.doc
      .moveTo(this.left, end)
      .lineTo(this.left + this.width, end)
      .lineWidth(0.6)
      .strokeColor(RULE)
      .stroke();
    this.doc.y = end + 10;
  }

  /** Side-by-side charts at 1 px = 1 pt, scaled down together only if they do not fit the width. */
  private chartBox(charts: Chart[]): { scale: number; width: number; height: number } {
    const gap = 14;
    const natural = charts.reduce((sum, chart) => sum + chart.width, 0) + gap * (charts.length - 1);
    const scale = Math.min(1, this.width / natural);
    return { scale, width: natural * scale, height: Math.max(...charts.map((c) => c.height)) * scale };
  }

  private gridCellWidth(columns: number): number {
    return (this.width - GRID.gap * (columns - 1)) / columns;
  }

  /** Height of one grid row: the tallest chart (scaled to its cell) plus the tallest caption. */
  private gridRowHeight(columns: number, items: { chart: Chart; caption: string }[]): number {
    const cell = this.gridCellWidth(columns);
    const chart = Math.max(0, ...items.map(({ chart }) => chart.height * Math.min(1, cell / chart.width)));
    const caption = Math.max(0, ...items.map(({ caption }) => this.textHeight(caption, false, GRID.captionSize, cell)));
    return chart + GRID.captionGap + caption + GRID.rowGap;
  }

  private drawChartGrid(columns: number, items: { chart: Chart; caption: string }[]): void {
    const cell = this.gridCellWidth(columns);
    for (let start = 0; start < items.length; start += columns) {
      const row = items.slice(start, start + columns);
      this.ensure(this.gridRowHeight(columns, row));
      const top = this.doc.y;
      const chartHeight = Math.max(...row.map(({ chart }) => chart.height * Math.min(1, cell / chart.width)));
      row.forEach(({ chart, caption }, i) => {
        const x = this.left + i * (cell + GRID.gap);
        const scale = Math.min(1, cell / chart.width);
        this.drawSvg(chart, x, top, scale);
        this.font(false, GRID.captionSize, INK).text(caption, x, top + chartHeight + GRID.captionGap, { width: cell });
      });
      this.doc.x = this.left;
      this.doc.y = top + this.gridRowHeight(columns, row);
    }
  }

  private drawSvg(chart: Chart, x: number, y: number, scale: number): void {
    SVGtoPDF(this.doc, chart.svg, x, y, {
      width: chart.width * scale,
      height: chart.height * scale,
      assumePt: true,
      // Every SVG font maps to the embedded DejaVu faces: chart text is embedded too.
      fontCallback: (_family, bold) => (bold ? PDF_FONT.bold : PDF_FONT.regular),
      warningCallback: this.onWarning,
    });
  }

  private drawCharts(charts: Chart[]): void {
    const gap = 14;
    const box = this.chartBox(charts);
    this.ensure(box.height + 6);
    const top = this.doc.y;
    let x = this.left + (this.width - box.width) / 2;
    for (const chart of charts) {
      this.drawSvg(chart, x, top, box.scale);
      x += (chart.width + gap) * box.scale;
    }
    this.doc.x = this.left;
    this.doc.y = top + box.height + 14;
  }

  /** Writes "footer · Page i of n" on every page; returns n. */
  numberPages(footer: string): number {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const page = this.doc.page;
      // Writing below the bottom margin would make pdfkit open a new page.
      const margin = page.margins.bottom;
      page.margins.bottom = 0;
      const y = page.height - 36;
      this.doc
        .moveTo(this.left, y - 6)
        .lineTo(this.left + this.width, y - 6)
        .lineWidth(0.5)
        .strokeColor(RULE)
        .stroke();
      this.font(false, 7.5, MUTED).text(footer, this.left, y, { width: this.width - 80, lineBreak: false });
      this.placeLine(`Page ${i + 1 - range.start} of ${range.count}`, this.left + this.width - 80, y, 80, 'right', false, 7.5, MUTED);
      page.margins.bottom = margin;
    }
    return range.count;
  }
}

/** A laid-out table row: each cell's lines and the row's height. */
interface TableRow {
  lines: string[][];
  height: number;
}

/** A laid-out table. */
interface TableGeometry {
  fontSize: number;
  widths: number[];
  header: TableRow;
  rows: TableRow[];
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Lowers the widest of `natural` to a common cap until they fit `room` together. */
function waterFill(natural: number[], room: number): number[] {
  if (sum(natural) <= room) return natural;
  const sorted = [...natural].sort((a, b) => b - a);
  let cap = sorted[0];
  for (let k = 1; k <= sorted.length; k++) {
    cap = (room - sum(sorted.slice(k))) / k;
    if (k === sorted.length || cap >= sorted[k]) break;
  }
  return natural.map((w) => Math.min(w, cap));
}
