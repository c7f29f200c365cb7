// QR codes as SVG: a workshop's registration link on a projector, an authenticator app's setup key.
import QRCode from 'qrcode';

/** An SVG QR code of `text`, medium error correction (a projected code survives a glare or a crease). */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
