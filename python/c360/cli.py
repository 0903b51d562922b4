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
    from c360.land.dialects import DialectDeclarationError

    try:
        with hold_home(args.home, "c360 land"):
            report = land_directory(landing=args.landing, home=args.home)
    except DialectDeclarationError as error:  # a bad <home>/sources.toml: nothing was written
        print(f"c360 land: {error}", file=sys.stderr)
        return EXIT_LAND_BROKE
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


def _serve(args: argparse.Namespace) -> int:
    from c360.serve import ServeError, serve

    try:
        serve(args.home, host=args.host, port=args.port, access_log=not args.no_access_log)
    except ServeError as error:
        print(f"c360 serve: {error}", file=sys.stderr)
        return 2
    return 0


# -- day one (issue 16): c360 check, c360 docs -------------------------------------------------

def _check(args: argparse.Namespace) -> int:
    from c360.check import run_check

    return run_check(args.home, landing=args.landing, junit_xml=args.junit_xml)


def _docs(args: argparse.Namespace) -> int:
    from c360.docs.dbt_docs import docs_command

    return docs_command(args.home, then_serve=args.serve, port=args.port)


def _add_day_one_commands(commands) -> None:
    check = commands.add_parser("check", help="CI data-quality check: dbt tests and GX suites on the"
                                " published version (or on what --landing would add), JUnit report")
    check.add_argument("--home", type=Path, required=True)
    check.add_argument("--landing", type=Path, default=None,
                       help="check what a run would land and build from this folder's new files"
                            " (in a scratch copy: nothing is published)")
    check.add_argument("--junit-xml", dest="junit_xml", type=Path, default=None, metavar="FILE",
                       help="also write the JUnit report here (always in <home>/checks/<id>/junit.xml)")
    check.set_defaults(func=_check)

    docs = commands.add_parser("docs", help="dbt docs of the published build (catalog from a copy of"
                               " <home>/c360.duckdb)")
    docs.add_argument("--home", type=Path, required=True)
    docs.add_argument("--serve", action="store_true", help="then serve them on 127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    docs.set_defaults(func=_docs)


# -- c360 quarantine list | show | release ---------------------------------------------------

EXIT_NOTHING_RELEASED, EXIT_REFUSED = 1, 2


def _quarantine(args: argparse.Namespace) -> int:
    """Exit codes: 0 done; 1 `release` released nothing (every selected record is still refused
    by landing: the reasons are printed); 2 the request cannot be done (unknown file or line,
    a corrected file that does not fit); 3 another command is writing the home."""
    from c360.home_lock import HomeLocked
    from c360.quarantine import QuarantineError, Repair, describe_item, describe_list, find_item, release

    try:
        if args.action == "list":
            print(describe_list(args.home))
            return 0
        if args.action == "show":
            print(describe_item(find_item(args.home, args.file), records_only=args.records))
            return 0
        repairs = [bool(args.corrected), bool(args.replace), args.as_is]
        if sum(repairs) != 1:
            raise QuarantineError("say how the records were repaired: exactly one of --corrected FILE,"
                                  " --replace OLD NEW (repeatable) or --as-is")
        repair = (Repair("corrected", corrected=args.corrected) if args.corrected else
                  Repair("replace", replace=tuple(map(tuple, args.replace))) if args.replace else
                  Repair("as_is"))
        outcome = release(args.home, args.file, repair, lines=args.line, deliver_as=args.deliver_as)
        print(outcome.describe())
        return 0 if outcome.batch_id else EXIT_NOTHING_RELEASED
    except HomeLocked as locked:
        print(f"c360 quarantine {args.action}: {locked}")
        return EXIT_NOT_STARTED
    except QuarantineError as refused:
        print(f"c360 quarantine {args.action}: {refused}")
        return EXIT_REFUSED
    except Exception as error:  # noqa: BLE001 - no traceback reaches the user
        print(f"c360 quarantine {args.action}: it broke (an interrupted release is settled by the next one):"
              f" {type(error).__name__}: {error}")
        return EXIT_REFUSED


def _add_quarantine_commands(commands) -> None:
    quarantine = commands.add_parser(
        "quarantine", help="list, show and release quarantined records (README: the quarantine)")
    actions = quarantine.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every delivered file with records in quarantine:"
                                              " counts and reasons")
    show = actions.add_parser("show", help="one file's quarantined records: line, reason, text, state")
    show.add_argument("file", help="its id from `list` (<batch id>/<source file>), or the source file"
                                   " alone when only one batch delivered it")
    show.add_argument("--records", action="store_true",
                      help="print only the texts still quarantined, one per line (a file to correct"
                           " and give to `release --corrected`)")
    out = actions.add_parser("release", help="land repaired records in a new batch, through the same"
                                             " landing and gates; they stay in the quarantine, marked"
                                             " released")
    out.add_argument("file", help="as for show")
    out.add_argument("--line", type=int, action="append", metavar="N",
                     help="release only the record of line N (repeatable; default: every record"
                          " still quarantined)")
    out.add_argument("--corrected", type=Path, metavar="FILE",
                     help="the repaired records, one per line in the order `show` lists them (for a"
                          " file kept aside whole: the corrected file)")
    out.add_argument("--replace", nargs=2, action="append", metavar=("OLD", "NEW"),
                     help="a declared repair: replace the text OLD by NEW in every selected record"
                          " (repeatable, applied in order)")
    out.add_argument("--as-is", dest="as_is", action="store_true",
                     help="release the records unchanged (e.g. a newer c360 now reads them)")
    out.add_argument("--as", dest="deliver_as", metavar="SOURCE/NAME",
                     help="for a file whose name was not recognised: the name it should have had,"
                          " e.g. mainframe/client.asc")
    for action in (listing, show, out):
        action.add_argument("--home", type=Path, required=True)
    quarantine.set_defaults(func=_quarantine)


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
    _add_graph_commands(commands)

    serve = commands.add_parser("serve", help="serve the published marts: a JSON API and a dashboard (read-only)")
    serve.add_argument("--home", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on; anything but loopback needs C360_API_TOKEN set")
    serve.add_argument("--port", type=int, default=8360)
    serve.add_argument("--no-access-log", dest="no_access_log", action="store_true",
                       help="do not log every request (for benchmarks)")
    serve.set_defaults(func=_serve)
    _add_day_one_commands(commands)



    _add_quarantine_commands(commands)
    return parser


# --- graph: Neptune export and journey traversals (c360.graph) ------------------------------

def _graph_export(args: argparse.Namespace) -> int:
    from c360.graph import GraphExportError, export_graph

    try:
        report = export_graph(home=args.home, out=args.out, fmt=args.format,
                              incremental=args.incremental, max_file_mb=args.max_file_mb)
    except GraphExportError as error:
        print(f"c360 graph export: {error}", file=sys.stderr)
        return 2
    print(report.describe())
    return 0


def _journey(args: argparse.Namespace) -> int:
    from c360.graph import GraphExportError
    from c360.graph.journey import ClientNotFoundError, client_journey, describe_journey, open_journey_graph
    from c360.publish import read_published

    published = read_published(args.home)
    if published is None:
        print(f"c360 journey: nothing is published in {args.home}: run `c360 run` first", file=sys.stderr)
        return 2
    try:
        with open_journey_graph(args.home) as store:
            events = client_journey(store, args.client_id)
    except (GraphExportError, ClientNotFoundError) as error:
        print(f"c360 journey: {error}", file=sys.stderr)
        return 1
    print(describe_journey(args.client_id, events, published.as_of_date))
    return 0


def _add_graph_commands(commands) -> None:
    graph = commands.add_parser("graph", help="the customer journey as a property graph")
    graph_commands = graph.add_subparsers(dest="graph_command", required=True)
    export = graph_commands.add_parser(
        "export", help="write the published graph as Amazon Neptune bulk-load CSV files")
    export.add_argument("--home", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True,
                        help="folder to write (new, empty, or an earlier export, which is replaced)")
    export.add_argument("--format", choices=("gremlin", "opencypher"), default="gremlin",
                        help="Neptune's Gremlin CSV (~id, ~label; default) or openCypher CSV (:ID, :LABEL)")
    export.add_argument("--incremental", action="store_true",
                        help="only the vertices and edges added or changed since the previous export"
                             " (remembered under <home>/graph/state/export)")
    export.add_argument("--max-file-mb", dest="max_file_mb", type=float, default=None, metavar="N",
                        help="split files into parts of at most N MiB, each with the header (default 256)")
    export.set_defaults(func=_graph_export)

    journey = commands.add_parser(
        "journey", help="a client's journey in time order, from Gremlin traversals of the graph")
    journey.add_argument("--home", type=Path, required=True)
    journey.add_argument("client_id", type=int)
    journey.set_defaults(func=_journey)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: what was committed stays, the rest is rolled back next time
        print(f"c360 {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
