"""A progress bar on stderr for verbose fits, fed by gsgd's progress reports
(every check_every steps and at each epoch end: never per step)."""

import sys


class ProgressBar:
    WIDTH = 24

    def __init__(self, stream=None, open_epochs=0):
        self.stream = stream if stream is not None else sys.stderr
        # epochs="auto": the run's epochs hold max_epochs, a bound, until the
        # cooldown fixes the end; "epoch 3/1000" would misread as a length.
        self.open_epochs = open_epochs
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, p):
        steps = max(p["steps"], 1)
        done = min(p["step"], steps)
        fill = int(self.WIDTH * done / steps)
        bar = "#" * fill + "." * (self.WIDTH - fill)
        of = "" if p["epochs"] == self.open_epochs else f"/{p['epochs']}"
        line = (f"epoch {p['epoch']}{of} [{bar}] {done}/{steps} "
                f"loss {p['loss']:.4f} {p['samples_per_second']:,.0f} samples/s "
                f"{p['seconds']:.1f}s")
        if p["epoch_done"]:
            # One line per epoch that stays; a terminal also sees the bar move.
            self.stream.write(("\r" if self.live else "") + line + "\n")
        elif self.live:
            self.stream.write("\r" + line)
        self.stream.flush()
