"""`visualizer spectrum RUN`: the Hessian's top eigenvalues and eigenvalue density at a run's weights."""

from __future__ import annotations

import sys
from pathlib import Path

from visualizer.cli.common import EXIT_OK, RUN_HELP, check_out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "spectrum", help="the Hessian's top eigenvalues and eigenvalue density at a run's weights",
        description="At a run's final weights (or its snapshot at --step), print the top-k eigenvalues of the "
                    "training loss's Hessian (Lanczos) and estimate its eigenvalue density by stochastic Lanczos "
                    "quadrature (Ghorbani et al. 2019, as PyHessian: Rademacher probes, Gaussian broadening). "
                    "With --out, writes spectrum.csv (eigenvalue, density) and spectrum.png.")
    p.add_argument("run", type=Path, help=RUN_HELP)
    p.add_argument("--step", type=int, help="the snapshot at or before this step (default: the final weights)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many top eigenvalues (default 5)")
    p.add_argument("--probes", type=int, default=4, help="random probes of the density (default 4)")
    p.add_argument("--lanczos-steps", type=int, default=40, metavar="M",
                   help="Lanczos steps per probe: nodes of the quadrature (default 40)")
    p.add_argument("--samples", type=int, default=2048, metavar="N",
                   help="training samples the Hessian is measured on (default 2048)")
    p.add_argument("--out", type=Path, help="folder for spectrum.csv and spectrum.png")
    p.set_defaults(func=cmd_spectrum)


def cmd_spectrum(args) -> int:
    from visualizer.core.errors import VisualizerError
    from visualizer.core.lab.after_run import spectrum_of_run
    from visualizer.core.runs.loaded import LoadedRun
    from visualizer.core.runs.reader import open_run

    for name in ("top", "probes", "lanczos_steps", "samples"):
        if getattr(args, name) < 1:
            raise VisualizerError(f"--{name.replace('_', '-')}: {getattr(args, name)} is out of range; allowed: "
                                  "1 or more")
    if args.out is not None:
        check_out(args.run, args.out)
    with open_run(args.run) as reader:
        run = LoadedRun.from_reader(reader)
        step, spectrum = spectrum_of_run(reader, run, args.step, args.top, args.probes, args.lanczos_steps,
                                         args.samples)
    print(f"step {step}: top {len(spectrum.top)} eigenvalues of the Hessian")
    for i, value in enumerate(spectrum.top, 1):
        print(f"  λ{i} = {value:.6g}")
    if args.out is not None:
        from visualizer.qt.lab.spectrum_plot import SpectrumPlot
        from visualizer.qt.plots import ensure_app, export_widget

        args.out.mkdir(parents=True, exist_ok=True)
        ensure_app()
        plot = SpectrumPlot()
        plot.set_spectrum(spectrum)
        plot.write_csv(args.out / "spectrum.csv")
        export_widget(plot, args.out / "spectrum.png", 900, 600)
        print(f"spectrum.csv and spectrum.png in {args.out}", file=sys.stderr)
    return EXIT_OK
