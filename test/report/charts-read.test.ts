/**
 * Charts that cannot mislead, checked where a reader sees them, in headless Chromium, on reports
 * the CLI writes (a suite with runs that time out, a QEMU and a Xen run, a nine-VM evacuation):
 * - a failed run is a marked cross in the legend, in the upper half of its chart (at the timeout it
 *   reached, or in the band at the top), never at 0 where 0 reads as the best result;
 * - reference lines: the downtime limit for QEMU's policy and none for Xen's, the timeout where
 *   runs failed, the RAM on bytes, the link on bytes over time, the NIC;
 * - no two text labels of a chart overlap; no axis title or legend label is cut (no "…") or
 *   outside its chart;
 * - the evacuation's phases and VMs have colours of their own: none shared, nine VMs nine colours.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateInPage, CHROMIUM, chromiumOrSkip } from '../fixtures/cdp-pipe.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

interface Box {
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Chart {
  /** The section heading or the chart's own title. */
  name: string;
  box: { x: number; y: number; w: number; h: number };
  texts: Box[];
  axisTitles: Box[];
  legend: string[];
  /** The plot's top and bottom (the y axis' domain line), page pixels. */
  plot: { top: number; bottom: number } | null;
  /** Centres (y) of the failed runs' crosses. */
  failedYs: number[];
  references: string[];
  /** Fill colours of the data marks, by mark class. */
  fills: Record<string, string[]>;
}

const INSPECT = `(() => {
  const box = (e) => { const b = e.getBoundingClientRect(); return { text: e.textContent || '', x: b.x, y: b.y, w: b.width, h: b.height }; };
  return [...document.querySelectorAll('svg')].map((svg) => {
    const title = svg.querySelector('g.role-title text');
    const section = svg.closest('section')?.querySelector('h3');
    const yAxis = [...svg.querySelectorAll('g.role-axis')].find((a) => (a.getAttribute('aria-label') || '').startsWith('Y-axis'));
    const domain = yAxis?.querySelector('g.role-axis-domain line, g.role-axis-domain path');
    const d = domain ? domain.getBoundingClientRect() : null;
    const fills = {};
    for (const g of svg.querySelectorAll('g.role-mark')) {
      const cls = [...g.classList].find((c) => c.endsWith('_marks')) || 'marks';
      fills[cls] = [...new Set([...(fills[cls] || []), ...[...g.querySelectorAll('path, rect')].map((p) => (p.getAttribute('fill') || '').toLowerCase()).filter((f) => f && f !== 'none' && f !== 'transparent')])];
    }
    return {
      name: (title?.textContent || section?.textContent || ''),
      box: box(svg),
      texts: [...svg.querySelectorAll('text')].filter((t) => (t.textContent || '').trim() !== '').map(box),
      axisTitles: [...svg.querySelectorAll('g.role-axis-title text')].map(box),
      legend: [...svg.querySelectorAll('g.role-legend-label text')].map((t) => t.textContent || ''),
      plot: d ? { top: d.y, bottom: d.y + d.height } : null,
      failedYs: [...svg.querySelectorAll('g.failed_marks path, g.failed_top_marks path')].map((p) => { const b = p.getBoundingClientRect(); return b.y + b.height / 2; }),
      references: [...svg.querySelectorAll('g.role-mark')].flatMap((g) => [...g.classList].filter((c) => /^reference_[a-z0-9]+_marks$/.test(c))),
      fills,
    };
  });
})()`;

const overlap = (a: Box, b: Box): number =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/** What every chart of every report must satisfy: no text on text, nothing cut, nothing outside. */
function readable(page: string, charts: Chart[]): void {
  for (const c of charts) {
    const where = `${page}: "${c.name}"`;
    for (let i = 0; i < c.texts.length; i++)
      for (let j = i + 1; j < c.texts.length; j++)
        assert.ok(
          overlap(c.texts[i], c.texts[j]) < 2,
          `${where}: "${c.texts[i].text}" and "${c.texts[j].text}" overlap`,
        );
    for (const t of c.axisTitles) {
      assert.doesNotMatch(t.text, /…$/, `${where}: axis title "${t.text}" is cut`);
      assert.ok(
        t.x >= c.box.x - 1 &&
          t.y >= c.box.y - 1 &&
          t.x + t.w <= c.box.x + c.box.w + 1 &&
          t.y + t.h <= c.box.y + c.box.h + 1,
        `${where}: axis title "${t.text}" leaves its chart`,
      );
    }
    for (const l of c.legend) assert.doesNotMatch(l, /…$/, `${where}: legend label "${l}" is cut`);
  }
}

function cli(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.ok(r.status === 0 || r.status === 1, `migbench ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
}

const SUITE = (policy: string): string => `name: charts-${policy}
base:
  ram: 256MiB
  link: 1Gbit/s
  clock: virtual
  timeout: 5s
  policy: ${policy}
matrix:
  dirty-rate: [20MB/s, 60MB/s, 200MB/s]
  pattern: [uniform, hotset:0.05:0.9]
repeat: 2
comparisons:
  - vary: dirty-rate
    metric: total-time
  - vary: dirty-rate
    metric: downtime
  - vary: dirty-rate
    metric: bytes-sent
`;

test(
  'charts that cannot mislead: failures marked where they got to, reference lines, no overlaps, no cut titles, palettes apart',
  { timeout: 300_000 },
  async (t) => {
    if (!chromiumOrSkip(t)) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-charts-'));
    try {
      const pages: Record<string, Chart[]> = {};
      const open = async (name: string, file: string): Promise<Chart[]> => {
        const [charts] = await evaluateInPage(CHROMIUM, file, path.join(dir, `profile-${name}`), [INSPECT]);
        pages[name] = charts as Chart[];
        readable(name, pages[name]);
        return pages[name];
      };

      // A suite of QEMU's loop where 200 MB/s of uniform writes cannot converge in the 5 s timeout.
      for (const policy of ['qemu', 'xen']) {
        writeFileSync(path.join(dir, `${policy}.yaml`), SUITE(policy));
        cli(['suite', `${policy}.yaml`, '--out', policy, '--quiet'], dir);
      }
      const qemu = await open('qemu suite', path.join(dir, 'qemu', 'report.html'));
      const total = qemu.find((c) => /^total time \(ms\) by dirty-rate/.test(c.name));
      assert.ok(total, 'the total-time chart');
      assert.ok(total.failedYs.length >= 1, 'the failed runs are drawn');
      assert.ok(total.legend.includes('failed runs'), `the legend names them: ${total.legend.join(', ')}`);
      assert.ok(total.plot);
      for (const y of total.failedYs)
        assert.ok(
          y < (total.plot.top + total.plot.bottom) / 2,
          `a failure at ${y} px is not in the upper half of ${JSON.stringify(total.plot)}`,
        );
      assert.ok(total.references.includes('reference_0_marks'), 'the timeout the failures reached is drawn');
      const downtime = qemu.find((c) => /^downtime \(ms\) by dirty-rate/.test(c.name));
      assert.ok(downtime?.plot && downtime.references.includes('reference_0_marks'), "QEMU's downtime limit is drawn");
      const plot = downtime.plot;
      assert.ok(
        downtime.failedYs.every((y) => y < (plot.top + plot.bottom) / 2),
        'failures without a downtime sit at the top',
      );
      const bytes = qemu.find((c) => /^bytes sent \(MiB\) by dirty-rate/.test(c.name));
      assert.ok(bytes?.references.includes('reference_0_marks'), 'the RAM is drawn on bytes sent');
      assert.ok(
        qemu.some((c) => c.legend.some((l) => l === 'hot set 5 %, 90 % of writes')),
        'legends in words',
      );

      const xen = await open('xen suite', path.join(dir, 'xen', 'report.html'));
      const xenDowntime = xen.find((c) => /^downtime \(ms\) by dirty-rate/.test(c.name));
      assert.deepEqual(xenDowntime?.references, [], 'no downtime limit for Xen, which ignores it');

      // One run's report: the limit QEMU aims for as a line, the RAM, the link; none of the limit for Xen.
      cli(['run', '--ram', '64MiB', '--clock', 'virtual', '--link', '1Gbit/s', '--quiet', '--html', 'qemu.html'], dir);
      cli(
        [
          'run',
          '--ram',
          '64MiB',
          '--clock',
          'virtual',
          '--link',
          '1Gbit/s',
          '--policy',
          'xen',
          '--quiet',
          '--html',
          'xen.html',
        ],
        dir,
      );
      const run = await open('qemu run', path.join(dir, 'qemu.html'));
      const names = (cs: Chart[], re: RegExp): string[] => cs.find((c) => re.test(c.name))?.references ?? [];
      assert.ok(names(run, /^expected downtime/).includes('reference_limit_marks'), 'the downtime limit is a line');
      assert.ok(names(run, /^bytes sent over time/).includes('reference_ram_marks'), 'the RAM on bytes over time');
      assert.ok(names(run, /^bytes sent over time/).includes('reference_link_marks'), 'the link on bytes over time');
      assert.ok(names(run, /pace over time/).includes('reference_before_marks'), "the guest's pace against before");
      const xenRun = await open('xen run', path.join(dir, 'xen.html'));
      assert.deepEqual(names(xenRun, /^expected downtime/), [], 'no limit line for Xen');

      // Nine VMs leave a host: phases in greys, VMs in colours, nine of them.
      const vms = Array.from({ length: 9 }, (_, i) => [
        '--vm',
        `ram=${(i + 1) * 16}MiB,dirty-rate=${(i + 1) * 5}MB/s`,
      ]).flat();
      cli(
        [
          'evacuate',
          ...vms,
          '--link',
          '10Gbit/s',
          '--max-concurrent',
          '3',
          '--clock',
          'virtual',
          '--quiet',
          '--html',
          'evac.html',
        ],
        dir,
      );
      const evac = await open('evacuation', path.join(dir, 'evac.html'));
      const timeline = evac.find((c) => /^timeline/.test(c.name));
      const nic = evac.find((c) => /^the NIC/.test(c.name));
      assert.ok(timeline && nic, 'the timeline and the NIC charts');
      const phaseColours = new Set(Object.values(timeline.fills).flat());
      const vmColours = new Set(
        Object.entries(nic.fills)
          .filter(([k]) => !k.startsWith('reference'))
          .flatMap(([, v]) => v),
      );
      assert.equal(vmColours.size, 9, `nine VMs, nine colours: ${[...vmColours].join(' ')}`);
      assert.deepEqual(
        [...phaseColours].filter((c) => vmColours.has(c)),
        [],
        'no colour is both a phase and a VM',
      );
      assert.ok(names(evac, /^the NIC/).includes('reference_nic_marks'), "the NIC's rate is drawn");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
