/** `--regions eu,us` → `{ regions: ['eu', 'us'] }`; absent → `{}` (every region). */
export function regionsOption(text: string | undefined): { regions?: string[] } {
  if (text === undefined) return {};
  return { regions: text.split(',').map((r) => r.trim()).filter(Boolean) };
}
