/** Short, fixed-width renderings: numbers change in place without moving the layout. */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '—';
  return `${Math.round((part / whole) * 100)}%`;
}

export function bytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function when(iso: string | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  return date.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function duration(fromIso: string | null, toIso: string | null): string {
  if (fromIso === null || toIso === null) return '—';
  const s = Math.round((new Date(toIso).getTime() - new Date(fromIso).getTime()) / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 10);
}
