// The registration link as a QR code, for a workshop's projector: in China a room of teachers joins
// by scanning (WeChat's scanner opens the link), not by typing a URL.
import { qrSvg } from '../text/qr.js';

/** The registration link's QR code, as SVG. */
export function registrationQrSvg(link: string): Promise<string> {
  return qrSvg(link);
}

export function registrationLink(origin: string, code: string): string {
  return `${origin}/register?code=${encodeURIComponent(code)}`;
}
