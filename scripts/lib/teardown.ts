// Undo steps collected while starting, run in reverse so dependents stop before what they use.

export class Teardown {
  #steps: (() => unknown)[] = [];
  #running?: Promise<void>;

  constructor(private readonly log: (line: string) => void) {}

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  /** Runs every step once, even if earlier ones fail; later calls share the first run. */
  run(): Promise<void> {
    return this.#running ??= (async () => {
      for (const step of this.#steps.reverse()) {
        try {
          await step();
        } catch (err) {
          this.log(`cleanup: ${err instanceof Error ? err.message : err}`);
        }
      }
      this.#steps = [];
    })();
  }
}
