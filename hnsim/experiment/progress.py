"""Progress on long work: a tqdm bar on a terminal; elsewhere (a log file, CI) a plain line every few
per cent, so a redirected run of a thousand replications leaves a dozen lines, not a thousand
carriage-return updates."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm.auto import tqdm

#: Without a terminal, a line each time this share of the total more is done.
PLAIN_STEP = 0.05


class PlainProgress:
    """The part of tqdm's interface hnsim uses (update, close, context manager), as plain lines:
    ``desc: 40/200 run (20%), 1 min 5 s``, one every :data:`PLAIN_STEP` of the total, and the last."""

    def __init__(self, total: int | float | None, desc: str = "", unit: str = "it", initial: int | float = 0, file: TextIO | None = None, step: float = PLAIN_STEP):
        self.total, self.desc, self.unit, self.n = total, desc, unit.strip(), initial
        self.file = file or sys.stderr
        self.step = step
        self._started = time.monotonic()
        self._next = self._threshold(initial)
        self._closed = False
        self.postfix = ""

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        """Text added to the end of each line (as tqdm shows it after the bar)."""
        self.postfix = text

    def _threshold(self, done: float) -> float:
        if not self.total:
            return float("inf")
        size = max(1.0, self.step * self.total)
        return (int(done // size) + 1) * size

    def _line(self) -> None:
        seconds = int(time.monotonic() - self._started)
        elapsed = f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        total = f"/{self.total:,.0f}" if self.total else ""
        postfix = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {self.n:,.0f}{total} {self.unit}{share}{postfix}, {elapsed}", file=self.file, flush=True)

    def update(self, n: int | float = 1) -> None:
        """Count ``n`` more done; print a line when another step of the total is passed."""
        self.n += n
        if self.n >= self._next or (self.total and self.n >= self.total):
            self._line()
            self._next = self._threshold(self.n)
            if self.total and self.n >= self.total:
                self._next = float("inf")

    def close(self) -> None:
        """Finish (a last line if the end was not reached)."""
        if not self._closed and self.total and self.n < self.total and self.n > 0:
            self._line()
        self._closed = True

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Silent:
    """No progress at all."""

    n = 0

    def update(self, n: int | float = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress_bar(total: int | float | None, desc: str = "", unit: str = "it", disable: bool = False, initial: int | float = 0,
                 file: TextIO | None = None, **tqdm_options: Any) -> Any:
    """A tqdm bar when ``file`` (default stderr) is a terminal, else a :class:`PlainProgress`; nothing when ``disable``."""
    if disable:
        return _Silent()
    stream = file or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=stream, **tqdm_options)
    return PlainProgress(total, desc, unit, initial, stream)
