/**
 * Problems with policy files and uploads, each `file:line: reason`, capped so that a file of thousands of mistakes
 * costs no more to report than one of fifty.
 */

/** Where a policy statement is written, for explanations and error messages. */
export interface Source {
  file: string;
  line: number;
}

export interface PolicyProblem {
  file: string;
  line?: number;
  message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`;
}

/**
 * Problems described for one input at most. An upload of a few kilobytes can hold thousands of mistakes; past the
 * first few dozen a reader learns nothing new, and describing each (its line, its message) is what made the work and
 * the answer grow with them.
 */
export const MAX_REPORTED_PROBLEMS = 50;
/** Characters of one message at most: messages quote keys and values, and one key can be as long as the file. */
const MAX_PROBLEM_MESSAGE = 240;

/** A message clipped to MAX_PROBLEM_MESSAGE characters (never splitting a surrogate pair). */
function clipMessage(message: string): string {
  if (message.length <= MAX_PROBLEM_MESSAGE) return message;
  const cut = message.slice(0, MAX_PROBLEM_MESSAGE - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * Collects problems up to MAX_REPORTED_PROBLEMS and only counts the rest: `add` takes a function so that a problem
 * past the cap costs no line lookup and no message. `list()` ends with one line saying how many were left out.
 */
export class ProblemList {
  readonly #items: PolicyProblem[] = [];
  #omitted = 0;

  get full(): boolean {
    return this.#items.length >= MAX_REPORTED_PROBLEMS;
  }

  /** Problems seen so far, described or not. */
  get count(): number {
    return this.#items.length + this.#omitted;
  }

  add(problem: () => PolicyProblem): void {
    if (this.full) this.#omitted++;
    else {
      const p = problem();
      this.#items.push({ ...p, message: clipMessage(p.message) });
    }
  }

  addAll(problems: readonly PolicyProblem[]): void {
    for (const p of problems) this.add(() => p);
  }

  list(): PolicyProblem[] {
    if (this.#omitted === 0) return [...this.#items];
    // Something was left out, so the list is full: the count goes under the first problem's file.
    return [
      ...this.#items,
      { file: this.#items[0].file, message: `${this.#omitted} more problem(s) not shown: only the first ${MAX_REPORTED_PROBLEMS} are reported` },
    ];
  }
}

/**
 * At most MAX_REPORTED_PROBLEMS of `problems`, each clipped, and a count of the rest. One more is let through: a
 * list that a ProblemList already capped ends with its count, and must not be counted again.
 */
export function capProblems(problems: readonly PolicyProblem[]): PolicyProblem[] {
  if (problems.length <= MAX_REPORTED_PROBLEMS + 1) return problems.map((p) => ({ ...p, message: clipMessage(p.message) }));
  const list = new ProblemList();
  list.addAll(problems);
  return list.list();
}

/** A policy file (or a set of them) that cannot be used; `problems` names each file, line and reason (capped). */
export class PolicyError extends Error {
  readonly problems: readonly PolicyProblem[];
  constructor(problems: PolicyProblem[], heading = 'invalid policy') {
    const shown = capProblems(problems);
    super(`${heading}:\n  ${shown.map(formatProblem).join('\n  ')}`);
    this.name = 'PolicyError';
    this.problems = shown;
  }
}
