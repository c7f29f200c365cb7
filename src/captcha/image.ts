// Draws a captcha PNG: characters of a bundled font (never a system font), each rotated, scaled and
// overlapped, crossed by strokes in the text's own colour and sprinkled with noise, so that
// off-the-shelf OCR cannot separate and read them while a person can.
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';

const FONT_FAMILY = 'GatehouseCaptcha';
const FONT_FILE = fileURLToPath(new URL('../../assets/fonts/DejaVuSansMono-Bold.ttf', import.meta.url));
let fontRegistered = false;

function ensureFont(): void {
  if (fontRegistered) return;
  if (!GlobalFonts.registerFromPath(FONT_FILE, FONT_FAMILY)) throw new Error(`cannot load captcha font ${FONT_FILE}`);
  fontRegistered = true;
}

export const CAPTCHA_WIDTH = 120;
export const CAPTCHA_HEIGHT = 40;

function between(min: number, max: number): number {
  return min + (randomInt(1_000_000) / 1_000_000) * (max - min);
}

function hsl(hue: number, saturation: number, lightness: number): string {
  return `hsl(${Math.round(hue)}, ${Math.round(saturation)}%, ${Math.round(lightness)}%)`;
}

function strokeCurve(ctx: SKRSContext2D, color: string, width: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(between(-10, 15), between(5, CAPTCHA_HEIGHT - 5));
  ctx.bezierCurveTo(
    between(20, 50), between(-10, CAPTCHA_HEIGHT + 10),
    between(70, 100), between(-10, CAPTCHA_HEIGHT + 10),
    between(CAPTCHA_WIDTH - 15, CAPTCHA_WIDTH + 10), between(5, CAPTCHA_HEIGHT - 5),
  );
  ctx.stroke();
}

/** Renders `text` as a PNG. Encoding runs off the event loop. */
export async function renderCaptchaPng(text: string): Promise<Buffer> {
  ensureFont();
  const canvas = createCanvas(CAPTCHA_WIDTH, CAPTCHA_HEIGHT);
  const ctx = canvas.getContext('2d');
  const hue = between(0, 360);

  ctx.fillStyle = hsl(hue, 30, 94);
  ctx.fillRect(0, 0, CAPTCHA_WIDTH, CAPTCHA_HEIGHT);
  for (let i = 0; i < 3; i++) strokeCurve(ctx, hsl(between(0, 360), 40, between(60, 80)), between(1, 2));

  const inkHue = (hue + 180) % 360;
  const ink = hsl(inkHue, 60, 28);
  const step = (CAPTCHA_WIDTH - 16) / text.length;
  for (let i = 0; i < text.length; i++) {
    const size = Math.round(between(24, 31));
    ctx.save();
    ctx.translate(10 + step * i + between(-2, 3), CAPTCHA_HEIGHT / 2 + between(-3, 4));
    ctx.rotate(between(-0.45, 0.45));
    ctx.transform(1, between(-0.25, 0.25), between(-0.3, 0.3), 1, 0, 0);
    ctx.font = `${size}px ${FONT_FAMILY}`;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = hsl(inkHue + between(-25, 25), 60, between(20, 35));
    ctx.fillText(text[i]!, 0, 0);
    ctx.restore();
  }

  // Strokes in the ink colour join the glyphs, which defeats segmentation.
  for (let i = 0; i < 2; i++) strokeCurve(ctx, ink, between(1.5, 2.5));
  ctx.fillStyle = ink;
  for (let i = 0; i < 40; i++) ctx.fillRect(randomInt(CAPTCHA_WIDTH), randomInt(CAPTCHA_HEIGHT), 1, 1);

  return canvas.encode('png');
}
