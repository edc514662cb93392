"""Display only: a run's progress (epoch or iteration, time left) from
mmengine's log lines while a tool writes them to its log file. Nothing
here feeds the tables; their numbers come from the metrics files."""
import io
import re
import sys
import time

# mmengine's progress lines: 'Epoch(train)  [3][10/32]  ... eta: 0:00:37',
# 'Iter(train) [350/900]  ...', 'Epoch(test) [10/25]  ...'
PROGRESS = re.compile(r'(?:Epoch|Iter)\((train|val|test)\)\s*'
                      r'(?:\[\s*(\d+)\])?\[\s*(\d+)/(\d+)\]'
                      r'(?:.*?eta: ((?:\d+ days?, )?\S+))?')
VERB = dict(train='training', val='validating', test='testing')


class Progress:
    """Shows a run's progress: one line updated in place on a terminal,
    else a new line at most every ``every`` seconds."""

    whole_lines = False  # --lines: lanes side by side, no in-place line

    def __init__(self, prefix, max_epochs=None, every=15):
        self.prefix, self.max_epochs, self.every = prefix, max_epochs, every
        # the demo's own stdout: a tool running in this process has its
        # output redirected to its log
        self.out = sys.stdout
        self.tty = self.out.isatty() and not self.whole_lines
        self.last = self.shown = None

    def update(self, line):
        match = PROGRESS.search(line)
        if match is None:
            return
        mode, epoch, done, total, eta = match.groups()
        text = f'{self.prefix}: {VERB[mode]}'
        if epoch is not None:
            of = f'/{self.max_epochs}' if self.max_epochs else ''
            text += f' epoch {epoch}{of}, batch {done}/{total}'
        else:
            text += f' {"iteration" if mode == "train" else "batch"} ' \
                    f'{done}/{total}'
        if eta is not None:
            text += f', {eta} left'
        if self.tty:
            print(f'\r\033[K{text}', end='', flush=True, file=self.out)
            self.shown = text
        elif self.last is None or time.time() - self.last >= self.every:
            print(text, flush=True, file=self.out)
            self.last = time.time()

    def close(self):
        if self.tty and self.shown:
            # keep the last state on its own line
            print(flush=True, file=self.out)


class LogStream(io.TextIOBase):
    """A tool's stdout / stderr while it runs in this process: every line to
    its log file, and to ``progress``."""

    def __init__(self, log, progress):
        self.log, self.progress, self.partial = log, progress, ''

    def writable(self):
        return True

    def write(self, text):
        if self.log.closed:  # a logger left over from a finished run
            return len(text)
        self.log.write(text)
        if self.progress is not None:
            *lines, self.partial = (self.partial + text).split('\n')
            for line in lines:
                self.progress.update(line)
        return len(text)

    def flush(self):
        if not self.log.closed:
            self.log.flush()
