/** CAPTCHA_MODE: which captcha the protected routes take — the picture, the proof of work, or either. */
export const CAPTCHA_MODES = ['image', 'pow', 'either'] as const;
export type CaptchaMode = (typeof CAPTCHA_MODES)[number];
