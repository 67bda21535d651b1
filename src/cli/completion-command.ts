/**
 * `migbench completion bash|zsh`: a completion script for the shell, made from the commands and
 * options this build has (so it never lists one that is not there). Commands after `migbench`,
 * each command's long options after it, file names after an option that takes a file or a folder,
 * and the values of options with a fixed set of them.
 *
 *   source <(migbench completion bash)          # bash, for this shell; add it to ~/.bashrc to keep it
 *   source <(migbench completion zsh)           # zsh (through bashcompinit)
 */
import type { Command } from 'commander';
import { EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';

/** Values offered after these options: the names each takes (from the registries), not the forms with parameters. */
export async function completionValues(): Promise<Record<string, string>> {
  const [{ POLICY_NAMES }, { DIRTY_LOG_NAMES }, { CODEC_IDS }] = await Promise.all([
    import('../policy/registry.js'),
    import('../dirtylog/registry.js'),
    import('../codec/codec.js'),
  ]);
  return {
    '--policy': POLICY_NAMES.join(' '),
    '--clock': 'real virtual',
    '--memory': 'procedural materialized',
    '--dirty-log': DIRTY_LOG_NAMES.join(' '),
    '--dirty-cost': 'kvm none',
    '--pattern': 'uniform sequential',
    '--codec': Object.keys(CODEC_IDS).join(' '),
  };
}

/** An option's argument is a path when its placeholder says so. */
const PATH_ARG = /<(file|dir|path|out|[a-z-]*file)>/;

interface CommandWords {
  name: string;
  options: string[];
  pathOptions: string[];
}

function wordsOf(program: Command): CommandWords[] {
  return program.commands.map((c) => {
    const options = c.options.map((o) => o.long).filter((l): l is string => l !== undefined);
    const pathOptions = c.options.filter((o) => o.long !== undefined && PATH_ARG.test(o.flags)).map((o) => o.long!);
    const nested = c.commands.map((s) => s.name());
    return { name: c.name(), options: [...nested, ...options, '--help'], pathOptions };
  });
}

export function bashCompletion(program: Command, valuesOf: Record<string, string>): string {
  const commands = wordsOf(program);
  const names = [...commands.map((c) => c.name), 'help'].join(' ');
  const cases = commands
    .map((c) => `    ${c.name}) opts="${c.options.join(' ')}"; paths="${c.pathOptions.join(' ')}" ;;`)
    .join('\n');
  const values = Object.entries(valuesOf)
    .map(([flag, v]) => `    ${flag}) COMPREPLY=($(compgen -W "${v}" -- "$cur")); return ;;`)
    .join('\n');
  return `# migbench completion for bash (migbench completion bash)
_migbench() {
  local cur prev cmd opts paths
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} --help --version" -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd" in
${cases}
    help) COMPREPLY=($(compgen -W "${names}" -- "$cur")); return ;;
    *) opts=""; paths="" ;;
  esac
  for p in $paths; do
    if [ "$prev" = "$p" ]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  done
  case "$prev" in
${values}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _migbench migbench
`;
}

export function zshCompletion(program: Command, valuesOf: Record<string, string>): string {
  return `# migbench completion for zsh (migbench completion zsh): the bash completion through bashcompinit
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program, valuesOf)}`;
}

export const completionCommand: CliCommand = {
  name: 'completion',
  register(program: Command, ctx: CliCommandContext): Command {
    return program
      .command('completion')
      .description('print a shell completion script: source <(migbench completion bash), or zsh')
      .argument('<shell>', 'bash or zsh')
      .addHelpText(
        'after',
        '\nExamples:\n  source <(migbench completion bash)       # this shell; add the line to ~/.bashrc to keep it\n  migbench completion zsh > ~/.migbench-completion.zsh && echo "source ~/.migbench-completion.zsh" >> ~/.zshrc',
      )
      .action(async (shell: string) => {
        if (shell !== 'bash' && shell !== 'zsh') {
          ctx.setExitCode(
            ctx.usageError('migbench completion')(`completion: the shell is bash or zsh (got "${shell}")`),
          );
          return;
        }
        const values = await completionValues();
        ctx.io.out(shell === 'bash' ? bashCompletion(program, values) : zshCompletion(program, values));
        ctx.setExitCode(EXIT_OK);
      });
  },
};
