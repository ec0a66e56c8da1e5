/**
 * The one font of the report: DejaVu Sans from the `dejavu-fonts-ttf` package,
 * embedded in the PDF, used for chart text and for the PNG, so the output looks
 * the same on every machine and never depends on system fonts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** The family name charts ask for (vega writes it into the SVG). */
export const FONT_FAMILY = 'DejaVu Sans';
/** Names the fonts are registered under in the PDF. */
export const PDF_FONT = { regular: 'DejaVu', bold: 'DejaVu-Bold' } as const;

/**
 * Passed as pdfkit's `font` option: no default font. pdfkit would otherwise
 * load Helvetica (a standard font that is not embedded), or, given the TTF
 * path, keep that copy under the path and re-parse the face on every
 * `font('DejaVu')` call (it dedupes by PostScript name before caching the
 * alias). The registered DejaVu faces are then the only fonts of a document.
 */
export const NO_DEFAULT_FONT = null as unknown as string;

/** Paths and bytes of the regular and bold faces. */
export interface ReportFonts {
  regularFile: string;
  boldFile: string;
  regular: Buffer;
  bold: Buffer;
}

/** Absolute paths of DejaVuSans.ttf and DejaVuSans-Bold.ttf, resolved from node_modules. */
export function locateFonts(): { regularFile: string; boldFile: string } {
  const manifest = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json');
  const folder = path.join(path.dirname(manifest), 'ttf');
  return { regularFile: path.join(folder, 'DejaVuSans.ttf'), boldFile: path.join(folder, 'DejaVuSans-Bold.ttf') };
}

/** Reads both faces once (the PDF, the text measurer and the PNG renderer share the bytes). */
export function loadFonts(): ReportFonts {
  const { regularFile, boldFile } = locateFonts();
  return { regularFile, boldFile, regular: fs.readFileSync(regularFile), bold: fs.readFileSync(boldFile) };
}

/** Width of `text` at `fontSize` in the report font (same unit as the size). */
export type TextMeasurer = (text: string, fontSize: number, bold: boolean) => number;

/**
 * A fast approximate measurer over a pdfkit document with the report fonts
 * registered: the sum of cached per-character advance widths (no kerning, which
 * in DejaVu only narrows text, so layouts err on the roomy side). Shaping every
 * distinct string through pdfkit would cost about a millisecond each.
 */
export function characterMeasurer(doc: PDFKit.PDFDocument): TextMeasurer {
  const advances = new Map<string, number>();
  const advance = (character: string, bold: boolean): number => {
    const key = (bold ? 'b' : 'r') + character;
    let width = advances.get(key);
    if (width === undefined) {
      width = doc
        .font(bold ? PDF_FONT.bold : PDF_FONT.regular)
        .fontSize(1)
        .widthOfString(character);
      advances.set(key, width);
    }
    return width;
  };
  return (text, fontSize, bold) => {
    let width = 0;
    for (const character of text) width += advance(character, bold);
    return width * fontSize;
  };
}
