// Where the browser tests find Chromium (Debian's package by default).
export const CHROMIUM = process.env.GATEHOUSE_TEST_CHROMIUM ?? '/usr/bin/chromium';
