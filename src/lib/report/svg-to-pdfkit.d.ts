/** Types for svg-to-pdfkit 0.1 (the package ships none): draws an SVG string into a pdfkit document as vectors. */
declare module 'svg-to-pdfkit' {
  interface SvgToPdfOptions {
    width?: number;
    height?: number;
    preserveAspectRatio?: string;
    useCSS?: boolean;
    /** Treat SVG user units as points instead of px (1 px = 0.75 pt). */
    assumePt?: boolean;
    precision?: number;
    /** Maps an SVG font to a font registered in the document; may set fauxBold/fauxItalic. */
    fontCallback?: (family: string, bold: boolean, italic: boolean, options: { fauxBold: boolean; fauxItalic: boolean }) => string;
    warningCallback?: (message: string) => void;
    imageCallback?: (link: string) => string;
    colorCallback?: (color: [number[], number]) => [number[], number];
    documentCallback?: (file: string) => unknown;
  }
  function SVGtoPDF(doc: PDFKit.PDFDocument, svg: string, x?: number, y?: number, options?: SvgToPdfOptions): void;
  export default SVGtoPDF;
}
