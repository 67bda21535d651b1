/**
 * A full garbage collection of this thread's heap, on demand. A guest memory is a shared
 * WebAssembly.Memory: its backing store (up to 4 GiB, committed page by page as it is touched) is
 * freed only when no isolate that ever held it still has a reference, and V8 does not count it as
 * heap pressure, so dropping the last reference frees nothing until some later collection, which a
 * small heap may not need for minutes. Measured on the machine this was built on (1 GiB memory,
 * touched, also handed to one worker thread): RSS 1077 MiB after the main thread dropped it, still
 * 1077 MiB after a main-thread gc() alone, 53 MiB once the worker had also collected (or had been
 * terminated) and the main thread collected again. The workers that see a guest memory are
 * destroyed when their run ends, but for the set-up threads, which the pool retires when it lets
 * memories go (src/memory/setup.ts), so a collection on the main thread is what releases them.
 *
 * `gc` is exposed by flipping V8's --expose-gc flag at run time and taking the function from a new
 * context, so neither the CLI nor a library user has to start Node with the flag.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gcFn: (() => void) | undefined;

function gcFunction(): () => void {
  if (gcFn) return gcFn;
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') {
    gcFn = global;
  } else {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  // V8 frees dead array buffers (a wasm memory's backing store among them) on a background
  // thread after a collection; the next run's set-up could then fault in its memory while the
  // last run's was still resident (seen: a 1 GiB run after a 256 MiB one peaked 250 MiB higher
  // one time in two). Swept on this thread, they are gone when the collection returns.
  v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  return gcFn;
}

/** Runs a full, synchronous collection of this thread's heap. */
export function collectGarbage(): void {
  gcFunction()();
}
