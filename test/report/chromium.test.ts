/**
 * A suite report opened in headless Chromium draws its charts: every <svg> has a size and data
 * marks (lines, bars, points) with a non-empty box once laid out, and the page logs no console
 * error, no exception and no failed load. Debian's chromium (`.ci/run` installs it); without it
 * the test fails in CI and is skipped elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderSuiteHtml } from '../../src/report/html.js';
import { CdpBrowser, type CdpEvent, CHROMIUM, chromiumOrSkip } from '../fixtures/cdp-pipe.js';
import { fakeSuite } from '../fixtures/results.js';

interface SvgReport {
  width: number;
  height: number;
  dataMarks: number;
  drawnDataMarks: number;
}

// Runs in the page: open every <details> (closed ones are not laid out), then measure.
const MEASURE = `(() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  return [...document.querySelectorAll('svg')].map((svg) => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('g.role-mark path, g.role-mark rect, g.role-mark line')];
    const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
    return { width: box.width, height: box.height, dataMarks: marks.length, drawnDataMarks: drawn.length };
  });
})()`;

test('report.html renders in Chromium: every chart drawn, no console errors', { timeout: 120_000 }, async (t) => {
  if (!chromiumOrSkip(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-chromium-'));
  const { plan, latest } = fakeSuite();
  const html = await renderSuiteHtml(plan, latest, { toolVersion: 'test' });
  const file = path.join(dir, 'report.html');
  writeFileSync(file, html);
  const svgCount = html.split('<svg').length - 1;
  assert.ok(svgCount >= 10, `the fixture report has charts (${svgCount})`);

  const browser = CdpBrowser.launch(CHROMIUM, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    `--user-data-dir=${path.join(dir, 'profile')}`,
    'about:blank',
  ]);
  try {
    const { targetInfos } = (await browser.send('Target.getTargets')) as {
      targetInfos: { targetId: string; type: string }[];
    };
    const page = targetInfos.find((i) => i.type === 'page');
    assert.ok(page, 'the browser opened a page');
    const { sessionId } = (await browser.send('Target.attachToTarget', { targetId: page.targetId, flatten: true })) as {
      sessionId: string;
    };
    for (const domain of ['Page', 'Runtime', 'Log']) await browser.send(`${domain}.enable`, {}, sessionId);
    await browser.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
    await browser.waitFor('Page.loadEventFired', 30_000);

    const { result } = (await browser.send(
      'Runtime.evaluate',
      { expression: MEASURE, returnByValue: true },
      sessionId,
    )) as { result: { value: SvgReport[] } };
    const svgs = result.value;
    assert.equal(svgs.length, svgCount, 'every chart is in the DOM');
    svgs.forEach((s, i) => {
      assert.ok(s.width > 100 && s.height > 100, `chart ${i} has a size (${s.width} x ${s.height})`);
      assert.ok(
        s.dataMarks > 0 && s.drawnDataMarks > 0,
        `chart ${i} draws its data marks (${s.drawnDataMarks} of ${s.dataMarks})`,
      );
    });

    const problems = browser.events.filter(
      (e: CdpEvent) =>
        e.method === 'Runtime.exceptionThrown' ||
        (e.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(String(e.params.type))) ||
        (e.method === 'Log.entryAdded' && (e.params.entry as { level?: string }).level === 'error'),
    );
    assert.deepEqual(
      problems.map((p) => JSON.stringify(p.params).slice(0, 300)),
      [],
      'no console errors',
    );
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
