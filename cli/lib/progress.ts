/** A one-line spinner on stderr for anything that takes more than a second (TTY only). */
export function spinner(text: string): { update(text: string): void; stop(final?: string): void } {
  const tty = process.stderr.isTTY === true && !process.env.NO_COLOR;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let current = text;
  let frame = 0;
  const started = Date.now();
  const timer = tty
    ? setInterval(() => {
        frame = (frame + 1) % frames.length;
        process.stderr.write(`\r\u001b[2K${frames[frame]} ${current} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      }, 100)
    : undefined;
  return {
    update(next) {
      current = next;
    },
    stop(final) {
      if (timer) {
        clearInterval(timer);
        process.stderr.write('\r\u001b[2K');
      }
      if (final) process.stderr.write(`${final}\n`);
    },
  };
}
