/**
 * Progress of long stages on a terminal: one line on stderr rewritten in place,
 * shown only when stderr is a TTY (cron logs and pipes stay clean).
 */

/** Reports progress; every method is a no-op off a terminal. */
export interface Progress {
  /** Shows `message`; given a function, calls it only when the line is shown (the first number formatted with a locale costs some 10 ms). */
  update(message: string | (() => string)): void;
  done(): void;
}

/** Starts a progress line for `label`. */
export function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.LOG_LEVEL === 'silent') return { update: () => {}, done: () => {} };
  let shown = false;
  let last = 0;
  // Some terminals (and script/tmux when detached) report 0 columns.
  const width = (): number => Math.max(20, stream.columns || 80);
  return {
    update(message) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const text = `${label}: ${typeof message === 'function' ? message() : message}`.slice(0, width() - 1);
      stream.write('\r' + text.padEnd(width() - 1));
      shown = true;
    },
    done() {
      if (shown) stream.write('\r' + ' '.repeat(width() - 1) + '\r');
    },
  };
}
