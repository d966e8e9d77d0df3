"""The ``qnn`` command line: one entry point for demos, experiments and services."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="sample a random TBI and store its histogram in HDF5",
        description="Sample a TBI with random angles (input 1,0,1,0,...) on a "
        "backend and write the histogram, with the exact "
        "distribution where it fits, to an HDF5 file.",
    )
    demo.add_argument("--modes", type=int, default=8, help="time bins M (default 8)")
    demo.add_argument("--loops", type=_int_list, default=(1, 2), help="loop lengths (default 1,2)")
    demo.add_argument("--shots", type=int, default=10_000, help="samples (default 10000)")
    demo.add_argument("--seed", type=int, default=0, help="seed for angles and samples")
    demo.add_argument("--backend", default="exact", help="backend name (default exact)")
    demo.add_argument("--detection", choices=("pnr", "threshold"), default="pnr")
    demo.add_argument("--transmission", type=float, default=1.0, help="uniform transmission η")
    demo.add_argument("--out", default="demo.h5", help="HDF5 file to write (default demo.h5)")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    import numpy as np

    from .photonics import NoiseModel, ProbabilityBackend, get_backend, random_tbi
    from .store import RunStore, circuit_attrs

    rng = np.random.default_rng(args.seed)
    circuit = random_tbi(args.modes, args.loops, rng=rng)
    options = (
        {"noise": NoiseModel(transmission=args.transmission)} if args.backend == "exact" else {}
    )
    backend = get_backend(args.backend, **options)
    hist = backend.sample(circuit, args.shots, seed=rng, detection=args.detection)
    attrs = {
        "backend": args.backend,
        "seed": args.seed,
        "noise": options["noise"].to_dict() if options else {},
    }
    attrs.update(circuit_attrs(circuit))
    with RunStore(args.out, mode="w") as store:
        store.put_histogram("demo/histogram", hist, **attrs)
        if isinstance(backend, ProbabilityBackend) and circuit.n_fock_states <= 1 << 20:
            patterns, probs = backend.probabilities(circuit, args.detection)
            store.put_probabilities("demo/probabilities", patterns, probs.detach(), **attrs)
    top = sorted(hist.to_dict().items(), key=lambda item: -item[1])[:5]
    print(f"{circuit}\n{hist}\nmost frequent patterns:")
    for pattern, count in top:
        print(f"  {''.join(map(str, pattern))}  {count / hist.shots:.4f}")
    mean = " ".join(f"{x:.3f}" for x in hist.mean_photon_number())
    print(f"mean photons per mode: {mean}\nwrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as err:
        print(f"qnn {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
