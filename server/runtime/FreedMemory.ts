import { createRequire } from 'node:module';
import type Koffi from 'koffi';

/**
 * Gives the memory that released onnxruntime sessions leave in glibc's free lists back to the
 * operating system (`malloc_trim(0)`, glibc only). Releasing a session frees its memory to the
 * allocator, which keeps it: a 9.1 MB model of 200,000 chained Identity nodes raised RSS by 510 MB
 * in a worker thread and RSS stayed there after `release()` and the thread's end (also with
 * MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_ or MALLOC_ARENA_MAX=2 set); `malloc_trim(0)` then
 * took it from 557 MB to 93 MB, in 144 ms. So it runs on libuv's thread pool (koffi's async call),
 * never on the HTTP thread, and one trim at a time: unloads that end while one runs share the next.
 */
export class FreedMemory {
  private running = false;
  private again = false;

  private constructor(private readonly trim: ((pad: number, done: (error: unknown, result: number) => void) => void) | null) {}

  /**
   * glibc's trim, or nothing where there is no glibc (Windows, macOS, musl: no libc.so.6 with
   * malloc_trim), where the allocator is another one and this problem was not measured.
   */
  static load(): FreedMemory {
    if (process.platform !== 'linux') return new FreedMemory(null);
    try {
      // koffi: a maintained FFI with prebuilt binaries for every platform (no compiler at install).
      const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
      const mallocTrim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)');
      return new FreedMemory((pad, done) => mallocTrim.async(pad, done));
    } catch {
      return new FreedMemory(null);
    }
  }

  /** Asks for a trim, after the sessions were released; returns at once (the trim runs off the JS threads). */
  request(): void {
    if (!this.trim) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const run = () => this.trim!(0, () => {
      if (this.again) {
        this.again = false;
        run();
      } else {
        this.running = false;
      }
    });
    run();
  }
}
