/**
 * Lays out the report document (a list of blocks) on A4 pages with pdfkit:
 * the embedded DejaVu font only, charts drawn as vectors by svg-to-pdfkit,
 * tables that repeat their header on a new page and shrink or ellipsize
 * instead of overflowing, headings kept with what follows, page numbers.
 * Builds the whole file in memory; the caller writes it.
 */
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { characterMeasurer, NO_DEFAULT_FONT, PDF_FONT, type ReportFonts, type TextMeasurer } from './fonts.js';
import type { Chart } from './render.js';

/** Horizontal alignment of a table column. */
export type Align = 'left' | 'right' | 'center';

/** One column of a table block. */
export interface TableColumn {
  header: string;
  align?: Align;
}

/** The pieces a report is made of, drawn top to bottom. */
export type Block =
  | { kind: 'title'; text: string; subtitle: string }
  | { kind: 'heading'; text: string }
  | { kind: 'text'; text: string; size?: number; color?: string }
  | { kind: 'note'; text: string }
  | { kind: 'facts'; rows: [string, string][] }
  | { kind: 'metrics'; items: { label: string; value: string; detail?: string }[] }
  | { kind: 'table'; columns: TableColumn[]; rows: string[][]; caption?: string }
  | { kind: 'charts'; charts: Chart[] }
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
const TABLE = { fontSize: 8.5, minFontSize: 7, padX: 4, padY: 3.5, header: '#e4e9f0', zebra: '#f5f7fa', minSplitRows: 6 };

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

/**
 * Lays the report out in `doc` (from createPdfDocument), ends it and returns
 * the bytes with the page count. `onWarning` hears what svg-to-pdfkit could not draw.
 */
export async function renderPdf(
  doc: Doc,
  report: ReportDocument,
  onWarning: (message: string) => void = () => {},
): Promise<{ pdf: Buffer; pages: number }> {
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

  const layout = new Layout(doc, onWarning);
  report.blocks.forEach((block, index) => layout.draw(block, report.blocks[index + 1]));
  const pages = layout.numberPages(report.footer);
  doc.end();
  await finished;
  return { pdf: Buffer.concat(chunks), pages };
}

/** The cursor over the pages and the drawing of each block kind. */
class Layout {
  private readonly left: number;
  private readonly width: number;
  private readonly measure: TextMeasurer;
  private readonly geometries = new WeakMap<string[][], { fontSize: number; widths: number[] }>();

  constructor(
    private readonly doc: Doc,
    private readonly onWarning: (message: string) => void,
  ) {
    this.left = PAGE.margin.left;
    this.width = doc.page.width - PAGE.margin.left - PAGE.margin.right;
    this.measure = characterMeasurer(doc);
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

  draw(block: Block, next: Block | undefined): void {
    switch (block.kind) {
      case 'title':
        return this.drawTitle(block.text, block.subtitle);
      case 'heading':
        return this.drawHeading(block.text, next);
      case 'text':
        return this.drawText(block.text, block.size ?? 9.5, block.color ?? INK);
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
      case 'pageBreak':
        if (!this.atTop) this.newPage();
        return;
    }
  }

  /** Height a block needs before a page break makes sense (keeps headings with their content). */
  private minimumHeight(block: Block | undefined, top: number): number {
    if (!block) return 0;
    switch (block.kind) {
      case 'charts':
        return this.chartBox(block.charts).height;
      case 'table':
        return this.tableLead(block.columns, block.rows, block.caption, top);
      case 'metrics':
        return 62;
      case 'facts':
        return 40;
      case 'text':
        return this.textHeight(block.text, false, block.size ?? 9.5, this.width) + 6;
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

  private drawHeading(text: string, next: Block | undefined): void {
    // Text, 2 pt, the rule, 7 pt: exactly what this method advances the cursor by.
    const height = this.textHeight(text, true, 13, this.width) + 9;
    if (!this.atTop) this.doc.y += 12;
    if (this.doc.y + height + this.minimumHeight(next, this.doc.y + height) > this.bottom && !this.atTop) this.newPage();
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

  private drawText(text: string, size: number, color: string): void {
    this.ensure(Math.min(this.textHeight(text, false, size, this.width), 3 * size * 1.3));
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

  private drawMetrics(items: { label: string; value: string; detail?: string }[]): void {
    const gap = 8;
    const cardWidth = (this.width - gap * (items.length - 1)) / items.length;
    const height = 54;
    this.ensure(height + 8);
    const y = this.doc.y;
    items.forEach((item, i) => {
      const x = this.left + i * (cardWidth + gap);
      this.doc.roundedRect(x, y, cardWidth, height, 4).fillColor('#eef3f9').fill();
      const inner = cardWidth - 14;
      // Fit first: measuring changes the document's font size.
      const [label, value, detail] = [
        this.fit(item.label, inner, false, 8),
        this.fit(item.value, inner, true, 15),
        this.fit(item.detail ?? '', inner, false, 7),
      ];
      this.font(false, 8, MUTED).text(label, x + 7, y + 6, { width: inner, lineBreak: false });
      this.font(true, 15).text(value, x + 7, y + 18, { width: inner, lineBreak: false });
      if (detail) this.font(false, 7, MUTED).text(detail, x + 7, y + 39, { width: inner, lineBreak: false });
    });
    this.doc.y = y + height + 10;
  }

  private rowHeight(fontSize: number): number {
    return fontSize * 1.2 + 2 * TABLE.padY;
  }

  /** Column widths that fill the page width: a smaller font first, then the widest columns cut (cells get an ellipsis). */
  private tableGeometry(columns: TableColumn[], rows: string[][]): { fontSize: number; widths: number[] } {
    const known = this.geometries.get(rows);
    if (known) return known;
    // Widest cell of each column at size 1 (the header in bold).
    const unit = columns.map((column, c) =>
      rows.reduce((widest, row) => Math.max(widest, this.measure(row[c] ?? '', 1, false)), this.measure(column.header, 1, true)),
    );
    const naturalAt = (size: number) => unit.map((w) => w * size + 2 * TABLE.padX + 1);
    let fontSize = TABLE.fontSize;
    while (fontSize > TABLE.minFontSize && naturalAt(fontSize).reduce((a, b) => a + b, 0) > this.width) fontSize -= 0.5;
    const natural = naturalAt(fontSize);
    const total = natural.reduce((a, b) => a + b, 0);
    let widths: number[];
    if (total <= this.width) {
      widths = natural.map((w) => (w * this.width) / total);
    } else {
      // Water-fill: lower the widest columns to a common cap until the table fits.
      const sorted = [...natural].sort((a, b) => b - a);
      let cap = sorted[0];
      for (let k = 1; k <= sorted.length; k++) {
        const rest = sorted.slice(k).reduce((a, b) => a + b, 0);
        cap = (this.width - rest) / k;
        if (k === sorted.length || cap >= sorted[k]) break;
      }
      widths = natural.map((w) => Math.min(w, cap));
    }
    const geometry = { fontSize, widths };
    this.geometries.set(rows, geometry);
    return geometry;
  }

  /** `text`, cut with an ellipsis to fit `width` in the given face and size. */
  private fit(text: string, width: number, bold: boolean, size: number): string {
    if (this.measure(text, size, bold) <= width) return text;
    let cut = text;
    while (cut.length > 1 && this.measure(cut + '…', size, bold) > width) cut = cut.slice(0, -1);
    return cut + '…';
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

  private drawRow(cells: string[], columns: TableColumn[], widths: number[], fontSize: number, header: boolean, fill: string | null): void {
    const height = this.rowHeight(fontSize);
    const y = this.doc.y;
    if (fill) this.doc.rect(this.left, y, this.width, height).fillColor(fill).fill();
    let x = this.left;
    cells.forEach((cell, c) => {
      const inner = widths[c] - 2 * TABLE.padX;
      const text = this.fit(cell, inner, header, fontSize);
      this.placeLine(text, x + TABLE.padX, y + TABLE.padY, inner, columns[c].align ?? 'left', header, fontSize);
      x += widths[c];
    });
    this.doc.y = y + height;
  }

  /**
   * Height a table needs below `top` before it may start there: the whole
   * table when it fits on one page and a break would leave a stub of a few
   * rows on either side, else the caption, the header and a few rows.
   */
  private tableLead(columns: TableColumn[], rows: string[][], caption: string | undefined, top: number): number {
    const height = this.rowHeight(this.tableGeometry(columns, rows).fontSize);
    const captionHeight = caption ? this.textHeight(caption, false, 8, this.width) + 4 : 0;
    const whole = captionHeight + height * (rows.length + 1);
    const fitsHere = Math.floor((this.bottom - top - captionHeight) / height) - 1;
    const stub = Math.min(fitsHere, rows.length - fitsHere);
    if (whole > this.bottom - top && whole <= this.bottom - PAGE.margin.top && stub < TABLE.minSplitRows) return whole;
    return captionHeight + height * Math.min(rows.length + 1, 4);
  }

  private drawTable(columns: TableColumn[], rows: string[][], caption: string | undefined): void {
    const { fontSize, widths } = this.tableGeometry(columns, rows);
    const height = this.rowHeight(fontSize);
    const headers = columns.map((c) => c.header);
    this.ensure(this.tableLead(columns, rows, caption, this.doc.y));
    if (caption) {
      this.font(false, 8, MUTED).text(caption, this.left, this.doc.y, { width: this.width });
      this.doc.y += 4;
    }
    this.drawRow(headers, columns, widths, fontSize, true, TABLE.header);
    rows.forEach((row, r) => {
      if (this.doc.y + height > this.bottom) {
        this.newPage();
        this.drawRow(headers, columns, widths, fontSize, true, TABLE.header);
      }
      this.drawRow(row, columns, widths, fontSize, false, r % 2 === 1 ? TABLE.zebra : null);
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

  private drawCharts(charts: Chart[]): void {
    const gap = 14;
    const box = this.chartBox(charts);
    this.ensure(box.height + 6);
    const top = this.doc.y;
    let x = this.left + (this.width - box.width) / 2;
    for (const chart of charts) {
      SVGtoPDF(this.doc, chart.svg, x, top, {
        width: chart.width * box.scale,
        height: chart.height * box.scale,
        assumePt: true,
        // Every SVG font maps to the embedded DejaVu faces: chart text is embedded too.
        fontCallback: (_family, bold) => (bold ? PDF_FONT.bold : PDF_FONT.regular),
        warningCallback: this.onWarning,
      });
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
