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
