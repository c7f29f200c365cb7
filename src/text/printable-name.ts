// Names that other people read (a person's, an organization's): printable text only.

/**
 * The name as it will be stored (NFC, trimmed, runs of spaces made one), or null when it is empty,
 * longer than maxLength characters, or holds control, format, private-use or unassigned characters
 * (which could hide text or reorder what an admin sees).
 */
export function printableName(raw: string, maxLength: number): string | null {
  if (!raw.isWellFormed()) return null;
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length < 1 || length > maxLength) return null;
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/u.test(name)) return null;
  return name;
}
