"""A progress bar on stderr for verbose fits, fed by gsgd's progress reports
(every check_every steps and at each epoch end: never per step)."""

import sys


class ProgressBar:
    WIDTH = 24

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, p):
        steps = max(p["steps"], 1)
        done = min(p["step"], steps)
        fill = int(self.WIDTH * done / steps)
        bar = "#" * fill + "." * (self.WIDTH - fill)
        line = (f"epoch {p['epoch']}/{p['epochs']} [{bar}] {done}/{steps} "
                f"loss {p['loss']:.4f} {p['samples_per_second']:,.0f} samples/s "
                f"{p['seconds']:.1f}s")
        if p["epoch_done"]:
            # One line per epoch that stays; a terminal also sees the bar move.
            self.stream.write(("\r" if self.live else "") + line + "\n")
        elif self.live:
            self.stream.write("\r" + line)
        self.stream.flush()
