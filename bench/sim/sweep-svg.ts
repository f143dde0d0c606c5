// A line chart as plain SVG (no package): deploy-phase minutes against artifact size, one line per fleet size.

export interface SweepPoint {
  machines: number;
  sizeGiB: number;
  deployMin: number | null;
  totalMin: number | null;
}

const colors = ['#1b6ac9', '#d9480f', '#2b8a3e', '#862e9c', '#495057'];

export function sweepSvg(points: SweepPoint[], title: string): string {
  const width = 720;
  const height = 420;
  const m = { left: 60, right: 180, top: 40, bottom: 50 };
  const sizes = [...new Set(points.map((p) => p.sizeGiB))].sort((a, b) => a - b);
  const fleets = [...new Set(points.map((p) => p.machines))].sort((a, b) => a - b);
  const values = points.flatMap((p) => [p.deployMin, p.totalMin]).filter((v): v is number => v !== null);
  const yMax = Math.max(35, Math.ceil(Math.max(...values) / 5) * 5);
  const xMax = Math.max(...sizes);
  const x = (v: number) => m.left + (v / xMax) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - (Math.min(v, yMax) / yMax) * (height - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  for (let v = 0; v <= yMax; v += 5) {
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  for (const s of sizes) out.push(`<text x="${x(s)}" y="${height - m.bottom + 18}" text-anchor="middle">${s}</text>`);
  out.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">artifact size (GiB)</text>`,
    `<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">minutes</text>`,
  );
  for (const [target, label] of [
    [10, 'deploy target 10 min'],
    [30, 'total target 30 min'],
  ] as const) {
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(target)}" y2="${y(target)}" stroke="#c92a2a" stroke-dasharray="6 4"/>`, `<text x="${width - m.right - 4}" y="${y(target) - 4}" text-anchor="end" fill="#c92a2a">${label}</text>`);
  }
  fleets.forEach((machines, i) => {
    const color = colors[i % colors.length]!;
    const line = (key: 'deployMin' | 'totalMin', dash: string) => {
      const pts = sizes
        .map((s) => points.find((p) => p.machines === machines && p.sizeGiB === s))
        .filter((p): p is SweepPoint => p !== undefined && p[key] !== null)
        .map((p) => `${x(p.sizeGiB).toFixed(1)},${y(p[key]!).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dash} points="${pts.join(' ')}"/>`);
      for (const pt of pts) out.push(`<circle cx="${pt.split(',')[0]}" cy="${pt.split(',')[1]}" r="3" fill="${color}"/>`);
    };
    line('deployMin', '');
    line('totalMin', 'stroke-dasharray="2 3"');
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${width - m.right + 15}" x2="${width - m.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`, `<text x="${width - m.right + 46}" y="${ly + 4}">${machines.toLocaleString('en-US')} machines</text>`);
  });
  const ly = m.top + 10 + fleets.length * 20 + 10;
  out.push(`<text x="${width - m.right + 15}" y="${ly}">solid: deploy phase</text>`, `<text x="${width - m.right + 15}" y="${ly + 16}">dotted: build + deploy</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
