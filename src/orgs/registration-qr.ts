// The registration link as a QR code, for a workshop's projector: in China a room of teachers joins
// by scanning (WeChat's scanner opens the link), not by typing a URL.
import QRCode from 'qrcode';

/** An SVG QR code of `link`, medium error correction (a projected code survives a glare or a crease). */
export function registrationQrSvg(link: string): Promise<string> {
  return QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export function registrationLink(origin: string, code: string): string {
  return `${origin}/register?code=${encodeURIComponent(code)}`;
}
