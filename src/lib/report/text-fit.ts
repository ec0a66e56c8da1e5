/**
 * Fitting text into a width: one line cut with an ellipsis, or a few wrapped
 * lines. Every function walks the text once, character by character, and
 * stops as soon as the width is used up, so its cost is bounded by what fits,
 * whatever the length of the text (a 20,000-character id costs as much as a
 * 40-character one). Pure: the measurer arrives as an argument.
 */
import type { TextMeasurer } from './fonts.js';

const ELLIPSIS = '…';

/** The characters (code points) of `text` from `start`, lazily. */
function* charactersFrom(text: string, start = 0): Generator<[string, number]> {
  for (let i = start; i < text.length;) {
    const code = text.codePointAt(i)!;
    const character = String.fromCodePoint(code);
    yield [character, i];
    i += character.length;
  }
}

/**
 * Width of `text`, or of its first part once that exceeds `limit` (the
 * result is then above `limit`): enough to compare with a box.
 */
export function widthUpTo(text: string, size: number, bold: boolean, limit: number, measure: TextMeasurer): number {
  let width = 0;
  for (const [character] of charactersFrom(text)) {
    width += measure(character, size, bold);
    if (width > limit) break;
  }
  return width;
}

/** `text` cut with an ellipsis to fit `width` in the given face and size. */
export function fitLine(text: string, width: number, size: number, bold: boolean, measure: TextMeasurer): string {
  const room = width - measure(ELLIPSIS, size, bold);
  let used = 0;
  // End of the longest prefix that still leaves room for the ellipsis.
  let cut = 0;
  for (const [character, index] of charactersFrom(text)) {
    used += measure(character, size, bold);
    if (used > width) return text.slice(0, cut) + ELLIPSIS;
    if (used <= room) cut = index + character.length;
  }
  return text;
}

/**
 * Greedy word wrap into at most `maxLines` lines of `width`. A word wider
 * than a line is broken; text left over after the last line ends that line
 * with an ellipsis.
 */
export function wrapLines(text: string, width: number, size: number, bold: boolean, measure: TextMeasurer, maxLines: number): string[] {
  const space = measure(' ', size, bold);
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  let word = '';
  let wordWidth = 0;
  let wordStart = 0;
  // Ends the line being filled; false when it was the last one allowed.
  const endLine = (): boolean => {
    lines.push(line);
    line = '';
    lineWidth = 0;
    return lines.length < maxLines;
  };
  // Puts the word read so far on the line, or on a new one; false when no line is left for it.
  const placeWord = (): boolean => {
    if (word === '') return true;
    if (line === '') {
      line = word;
      lineWidth = wordWidth;
    } else if (lineWidth + space + wordWidth <= width) {
      line += ' ' + word;
      lineWidth += space + wordWidth;
    } else {
      if (!endLine()) return false;
      line = word;
      lineWidth = wordWidth;
    }
    word = '';
    wordWidth = 0;
    return true;
  };
  // Index of the first character that found no line (-1: everything fitted).
  let leftover = -1;
  for (const [character, index] of charactersFrom(text)) {
    if (character === ' ' || character === '\n') {
      if (!placeWord()) {
        leftover = wordStart;
        break;
      }
      wordStart = index + 1;
      continue;
    }
    const advance = measure(character, size, bold);
    if (word !== '' && wordWidth + advance > width) {
      // A word wider than a line: the part read so far becomes a line of its own.
      if (line !== '' && !endLine()) {
        leftover = wordStart;
        break;
      }
      line = word;
      lineWidth = wordWidth;
      word = '';
      wordWidth = 0;
      wordStart = index;
      if (!endLine()) {
        leftover = index;
        break;
      }
    }
    word += character;
    wordWidth += advance;
  }
  if (leftover < 0) {
    if (!placeWord()) leftover = wordStart;
    else if (line !== '') lines.push(line);
  }
  if (leftover >= 0) {
    // The leftover overflows the last line by construction, so fitLine ends it with the ellipsis.
    const last = lines.length - 1;
    lines[last] = fitLine(`${lines[last]} ${text.slice(leftover, leftover + 200)}`, width, size, bold, measure);
  }
  return lines.length > 0 ? lines : [''];
}

/** `text` shortened to at most `max` characters (an ellipsis marks the cut): display only, never data. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not split a surrogate pair.
  let end = max - 1;
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1])) end--;
  return text.slice(0, end) + ELLIPSIS;
}
