// How many terminal cells a string takes, so that tables and summary lines
// stay aligned with CJK names and emoji: East Asian Wide and Fullwidth
// characters take two (get-east-asian-width, Unicode's own data: 9 KB, no
// dependencies, a lookup per character), as do emoji pictographs; combining
// marks and format characters (ZWJ, variation selectors) take none. A ZWJ
// emoji sequence counts each pictograph: terminals disagree there anyway.
import { eastAsianWidth } from 'get-east-asian-width';

const ZERO = /^[\p{Mn}\p{Me}\p{Cf}\u{FE00}-\u{FE0F}]$/u;
const EMOJI = /^\p{Extended_Pictographic}$/u;
const ASCII = /^[\x20-\x7e]*$/;

export function cellWidth(text: string): number {
  if (ASCII.test(text)) return text.length;
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x7f) width += 1;
    else if (ZERO.test(ch)) continue;
    else if (cp >= 0x1f000 && EMOJI.test(ch)) width += 2;
    else width += eastAsianWidth(cp);
  }
  return width;
}

/** `text` padded with spaces to `width` cells. */
export const padCells = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - cellWidth(text)));

/** The longest start of `text` that fits in `width` cells. */
export function cutCells(text: string, width: number): string {
  if (cellWidth(text) <= width) return text;
  let out = '';
  for (const ch of text) {
    if (cellWidth(out + ch) > width) break;
    out += ch;
  }
  return out;
}
