"""The ``pilot2prod`` command: list the notebooks, run one, or run the whole playbook.

Exit codes: 0 done; 2 bad input (one sentence naming the parameter or file and the fix);
1 a notebook failed (the message names the cell and the executed notebook).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilot2prod import __version__
from pilot2prod.engagement import default_folder, prepare_book, read_engagement, run_playbook
from pilot2prod.errors import Pilot2ProdError
from pilot2prod.paths import REPO_ROOT
from pilot2prod.process import skip_final_collection
from pilot2prod.runner import (
    DEFAULT_TIMEOUT,
    available_notebooks,
    describe,
    find_notebook,
    parse_assignments,
    read_parameter_file,
    run_notebook,
)

SAMPLE_ENGAGEMENT = REPO_ROOT / "engagements" / "acme.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilot2prod",
        description="Run the pilot-to-production playbook's notebooks on your own data.",
    )
    parser.add_argument("--version", action="version", version=f"pilot2prod {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the notebooks and their parameters")

    run = sub.add_parser("run", help="run one notebook into a fresh run folder")
    run.add_argument("notebook", help="notebook name, number or path, e.g. 01_success_metric")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (repeatable)",
    )
    run.add_argument(
        "-f",
        "--params-file",
        metavar="FILE",
        help="YAML file of parameters (name: value); -p wins over it",
    )
    run.add_argument("--out", metavar="DIR", help="base folder for run folders (default: ./runs)")
    run.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a cell may run (default {DEFAULT_TIMEOUT})",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    playbook = sub.add_parser(
        "playbook", help="run an engagement's notebooks in order (the sample company by default)"
    )
    playbook.add_argument(
        "-f",
        "--engagement",
        metavar="FILE",
        help="YAML file: notebook name -> its parameters (default: engagements/acme.yaml)",
    )
    playbook.add_argument(
        "--out",
        metavar="DIR",
        help="the engagement folder: one sub-folder per notebook, manifest.json, logs/ "
        "(default: runs/<engagement file name>)",
    )
    playbook.add_argument(
        "--rerun",
        metavar="NOTEBOOK",
        action="append",
        default=[],
        help="run again a notebook that finished in an earlier run into the same folder "
        "(replacing its outputs when it finishes); 'all' for every one",
    )
    playbook.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    playbook.add_argument("--quiet", action="store_true")

    engagement = sub.add_parser(
        "engagement",
        help="a whole client engagement: every notebook, then the client book, the executive "
        "report (PDF) and the working documents",
    )
    engagement_sub = engagement.add_subparsers(dest="engagement_command", required=True)
    erun = engagement_sub.add_parser("run", help="run an engagement file end to end")
    erun.add_argument("file", metavar="ENGAGEMENT.yaml")
    erun.add_argument(
        "--out",
        metavar="DIR",
        help="the engagement folder (default: runs/<client>-<date>; the same day resumes)",
    )
    erun.add_argument(
        "--rerun",
        metavar="NOTEBOOK",
        action="append",
        default=[],
        help="run again a notebook that finished in an earlier run into the same folder; 'all' "
        "for every one",
    )
    erun.add_argument("--no-book", action="store_true", help="skip building the client book")
    erun.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    erun.add_argument("--quiet", action="store_true")

    prepare = sub.add_parser(
        "prepare",
        help="write the engagement's notebooks with their parameters injected (for the book)",
    )
    prepare.add_argument("-f", "--engagement", metavar="FILE", required=True)
    prepare.add_argument("--out", metavar="DIR", required=True)
    prepare.add_argument(
        "--from",
        dest="handoffs_from",
        metavar="DIR",
        help="an engagement folder of the same engagement whose hand-offs (metric spec, audit, "
        "impact) the notebooks take",
    )
    serve = sub.add_parser(
        "serve",
        help="serve a registered model over HTTP (/predict, /healthz, /metrics) behind a flag file",
    )
    serve.add_argument(
        "--registry",
        required=True,
        metavar="URI",
        help="MLflow registry: a tracking URI (sqlite:///.../mlflow.db) or a folder with mlflow.db",
    )
    serve.add_argument("--name", default="ticket-triage", help="registered model name")
    serve.add_argument("--alias", default="champion", help="alias of the version to serve")
    serve.add_argument(
        "--flags",
        default="",
        metavar="FILE",
        help='JSON flag file, re-read on change: {"mode": "shadow|rollout|full", "percentage": '
        '10, "kill_switch": false}; missing = shadow',
    )
    serve.add_argument(
        "--log",
        default="predictions.jsonl",
        metavar="FILE",
        help="prediction log (JSON Lines, appended)",
    )
    serve.add_argument("--salt", default="", help="salt of the rollout hash (keep it per rollout)")
    serve.add_argument(
        "--fields",
        default="",
        help="comma-separated request fields holding the "
        "text; default: the text columns recorded with the version",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    model = sub.add_parser("model", help="list registered versions, or move the champion alias")
    model_sub = model.add_subparsers(dest="model_command", required=True)
    for name, text in (
        ("list", "list versions and aliases"),
        ("promote", "point an alias (champion) at a version: promote or roll back"),
    ):
        m = model_sub.add_parser(name, help=text)
        m.add_argument("--registry", required=True, metavar="URI")
        m.add_argument("--name", default="ticket-triage")
        if name == "promote":
            m.add_argument("--version", type=int, required=True)
            m.add_argument("--alias", default="champion")
    return parser


def registry_uri(value: str) -> str:
    """A tracking URI as given, or the SQLite registry inside a folder (a Chapter 4 run)."""
    from pilot2prod.production.registry import default_uri

    if "://" in value:
        return value
    folder = Path(value)
    if folder.is_file() and folder.suffix == ".db":
        return f"sqlite:///{folder.resolve()}"
    for candidate in (folder / "mlflow.db", folder / "registry" / "mlflow.db"):
        if candidate.is_file():
            return default_uri(candidate.parent)
    raise Pilot2ProdError(
        f"--registry: no mlflow.db in '{value}'; give a Chapter 4 run folder or a tracking URI."
    )


def _model(args) -> None:  # noqa: ANN001
    from pilot2prod.production.registry import Registry

    registry = Registry(registry_uri(args.registry), args.name)
    if args.model_command == "promote":
        _exists(registry, args.version)
        registry.set_alias(args.alias, args.version)
        print(f"{args.alias} -> version {args.version} of {args.name}")
        return
    for v in registry.versions():
        aliases = ", ".join(v.aliases) or "-"
        print(f"version {v.version}: {aliases}  (data {v.tags.get('data_sha256', '')[:12]})")


def _exists(registry, version: int) -> bool:  # noqa: ANN001
    if version not in {v.version for v in registry.versions()}:
        raise Pilot2ProdError(
            f"--version: {registry.name} has no version {version}; see pilot2prod model list."
        )
    return True


def _list() -> None:
    for path in available_notebooks():
        title, params = describe(path)
        print(f"{path.stem}: {title}")
        width = max(len(p.name) for p in params) if params else 0
        for p in params:
            print(f"  {p.name:<{width}}  {p.type_name:<5}  default {p.default!r}")
            if p.help:
                print(f"  {'':<{width}}         {p.help}")
        print()


def _print_run(result) -> None:
    print(f"Done. Outputs in {result.folder}")
    for item in sorted(result.folder.iterdir()):
        print(f"  {item.name}")


def _report_outcomes(outcomes, folder: Path) -> int:  # noqa: ANN001
    """Print what a playbook run did; the exit code of its failures (0 when none)."""
    kept = [o.notebook for o in outcomes if o.status == "kept"]
    if kept:
        print(
            f"Kept from an earlier run: {', '.join(kept)} (--rerun NAME or --rerun all "
            "runs them again)."
        )
    print(f"Engagement folder: {folder} (contents listed in manifest.json)")
    for o in outcomes:
        for note in o.notes:
            print(f"note: {o.notebook} {note}")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(
            f"error: {len(failed)} of {len(outcomes)} notebooks did not finish: "
            + "; ".join(f"{o.notebook}: {o.message}" for o in failed),
            file=sys.stderr,
        )
        return min(o.exit_code for o in failed)
    return 0


def _engagement_run(args) -> int:  # noqa: ANN001
    import time

    from pilot2prod.engagement import client_folder, refresh_manifest
    from pilot2prod.handover import hand_over

    engagement = read_engagement(args.file)
    folder = Path(args.out).resolve() if args.out else client_folder(engagement).resolve()
    started = time.perf_counter()
    outcomes = run_playbook(
        engagement,
        out=folder,
        timeout=args.timeout,
        progress=not args.quiet,
        rerun=frozenset(find_notebook(n).stem if n != "all" else n for n in args.rerun),
    )
    code = _report_outcomes(outcomes, folder)
    print(
        "== hand-over: summary, executive report, working documents"
        + ("" if args.no_book else ", client book")
    )
    step = time.perf_counter()
    status = {o.notebook: o.status for o in outcomes}
    handover = hand_over(folder, engagement.client, status, book=not args.no_book)
    refresh_manifest(folder)
    print(f"   done in {time.perf_counter() - step:.0f} s")
    print(handover.summary.answer)
    if handover.pdf:
        print(f"Executive report: {handover.pdf}")
    if handover.book:
        print(f"Client book: {handover.book}")
    print(f"Working documents: {folder / 'documents'}")
    for note in handover.notes:
        print(f"note: {note}")
    print(f"Total: {time.perf_counter() - started:.0f} s")
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    skip_final_collection()
    try:
        if args.command == "list":
            _list()
        elif args.command == "run":
            from_file = read_parameter_file(args.params_file) if args.params_file else {}
            result = run_notebook(
                args.notebook,
                from_text=parse_assignments(args.param),
                from_file=from_file,
                out=args.out,
                timeout=args.timeout,
                progress=not args.quiet,
            )
            _print_run(result)
        elif args.command == "playbook":
            engagement = read_engagement(args.engagement or SAMPLE_ENGAGEMENT)
            folder = Path(args.out).resolve() if args.out else default_folder(engagement)
            outcomes = run_playbook(
                engagement,
                out=folder,
                timeout=args.timeout,
                progress=not args.quiet,
                rerun=frozenset(find_notebook(n).stem if n != "all" else n for n in args.rerun),
            )
            code = _report_outcomes(outcomes, folder)
            if code:
                return code
        elif args.command == "engagement":
            return _engagement_run(args)
        elif args.command == "serve":
            from pilot2prod.production.service import ServiceConfig, serve

            fields = tuple(f.strip() for f in args.fields.split(",") if f.strip())
            config = ServiceConfig(
                registry_uri(args.registry),
                args.name,
                args.alias,
                args.flags,
                args.log,
                args.salt,
                fields,
            )
            print(f"Serving {args.name}@{args.alias} on http://{args.host}:{args.port}", flush=True)
            serve(config, args.host, args.port)
        elif args.command == "model":
            _model(args)
        elif args.command == "prepare":
            written = prepare_book(
                read_engagement(args.engagement),
                Path(args.out),
                Path(args.handoffs_from) if args.handoffs_from else None,
            )
            print(f"Prepared {len(written)} notebooks in {Path(args.out).resolve()}")
    except Pilot2ProdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into head and closed early
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
