"""The `c360` command: a thin layer over functions that tests call directly."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    if args.delta_days is not None:
        from c360.generate.delta import generate_delta

        summary = generate_delta(out_dir=args.out, days=args.delta_days, seed=args.seed)
    else:
        from c360.generate import generate_dataset

        summary = generate_dataset(out_dir=args.out, scale=args.scale, seed=args.seed)
    print(summary.describe())
    return 0


# -- c360 land and c360 run: writers of a home ---------------------------------------------

EXIT_LAND_BROKE, EXIT_NOT_STARTED = 2, 3


def _land(args: argparse.Namespace) -> int:
    """Exit codes: 0 landed, 1 something was quarantined (without --accept-quarantine), 2 the
    landing broke (the message names the file and why), 3 it could not start (the home is
    being written by another command, or the landing folder does not exist)."""
    from c360.home_lock import HomeLocked, hold_home
    from c360.land import land_directory

    try:
        with hold_home(args.home, "c360 land"):
            report = land_directory(landing=args.landing, home=args.home)
    except (HomeLocked, FileNotFoundError) as refused:
        print(f"c360 land: {refused}")
        return EXIT_NOT_STARTED
    except Exception as error:  # noqa: BLE001 - no traceback reaches the user
        print(f"c360 land: the landing broke, nothing of this landing was committed:"
              f" {type(error).__name__}: {error}")
        return EXIT_LAND_BROKE
    print(report.describe())
    return report.exit_code(accept_quarantine=args.accept_quarantine)


def _as_of_date(text: str) -> str:
    """argparse type of --as-of: a real calendar date, refused before anything runs."""
    from c360.build import validate_as_of

    try:
        return validate_as_of(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD ({error})") from None


def _run(args: argparse.Namespace) -> int:
    from c360.pipeline import run_pipeline

    return run_pipeline(
        landing=args.landing,
        home=args.home,
        as_of=args.as_of,
        accept_quarantine=args.accept_quarantine,
        full_refresh=args.full_refresh,
        target=args.target,
    )


def _status(args: argparse.Namespace) -> int:
    from c360.publish.status import describe_status

    text, code = describe_status(args.home)
    print(text)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic bank drop in native formats")
    generate.add_argument("--scale", type=float, default=1.0, help="1 = the real bank's size")
    generate.add_argument("--out", type=Path, required=True, help="landing folder to write")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--delta-days", dest="delta_days", type=int, default=None, metavar="N",
                          help="add the next N days to the drop already in --out (new files only: new"
                               " transactions, accounts, cards, CRM updates, GA days, and the nightly"
                               " re-delivery of the last two days with corrections); sizes follow the"
                               " drop, --scale is ignored")
    generate.set_defaults(func=_generate)

    land = commands.add_parser("land", help="land new raw files as Parquet, quarantining bad input")
    land.add_argument("--landing", type=Path, required=True)
    land.add_argument("--home", type=Path, required=True)
    land.add_argument("--accept-quarantine", action="store_true",
                      help="exit 0 even when records were quarantined")
    land.set_defaults(func=_land)

    run = commands.add_parser("run", help="land, gate, build and publish")
    run.add_argument("--landing", type=Path, required=True)
    run.add_argument("--home", type=Path, required=True)
    run.add_argument("--as-of", dest="as_of", type=_as_of_date, default=None,
                     help="YYYY-MM-DD, a calendar date (default: latest event); anything else is"
                          " refused with exit code 2 before anything runs")
    run.add_argument("--accept-quarantine", action="store_true")
    run.add_argument("--full-refresh", dest="full_refresh", action="store_true",
                     help="rebuild every model from the whole raw zone instead of loading only what"
                          " landed since the published version (the CRM history snapshot is kept)")
    run.add_argument("--target", choices=("duckdb", "spark"), default="duckdb",
                     help="where the gates and the build run: DuckDB (default), or Apache Spark"
                          " (needs the spark extra; the published build is Parquet under"
                          " <home>/spark/current)")
    run.set_defaults(func=_run)

    status = commands.add_parser("status", help="show the published version and the last run")
    status.add_argument("--home", type=Path, required=True)
    status.set_defaults(func=_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
