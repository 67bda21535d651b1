/** `migbench completion bash|zsh`: a script that completes this build's commands, options and values, run in a real bash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the bash completion offers for the words typed so far (the last one being completed). */
function complete(...words: string[]): string[] {
  const script = `source <("${process.execPath}" "${BIN}" completion bash)
COMP_WORDS=(migbench ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}
_migbench; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash: commands, a command’s options, option values and files after a file option', () => {
  assert.deepEqual(complete('ru'), ['run']);
  assert.ok(complete('').includes('evacuate') && complete('').includes('completion'));
  assert.deepEqual(complete('run', '--verb'), ['--verbose']);
  assert.ok(complete('run', '--d').includes('--dry-run'));
  assert.deepEqual(complete('run', '--policy', 'x'), ['xen']);
  assert.ok(complete('run', '--dirty-log', '').includes('ring'));
  assert.ok(complete('suite', '--').includes('--out'));
  assert.deepEqual(complete('help', 'evac'), ['evacuate']);
  assert.deepEqual(complete('run', '--html', 'package.j'), ['package.json'], 'files after a file option');
});

test('zsh gets the same through bashcompinit; another shell is refused in one line, exit 2', () => {
  const zsh = spawnSync(process.execPath, [BIN, 'completion', 'zsh'], { encoding: 'utf8' });
  assert.equal(zsh.status, 0);
  assert.match(zsh.stdout, /bashcompinit/);
  assert.match(zsh.stdout, /complete -o filenames -F _migbench migbench/);
  const fish = spawnSync(process.execPath, [BIN, 'completion', 'fish'], { encoding: 'utf8' });
  assert.equal(fish.status, 2);
  assert.match(fish.stderr, /^migbench: completion: the shell is bash or zsh \(got "fish"\)$/m);
});
