"""The `frontwatch` command line (DESIGN §3). User mistakes end in one line on stderr and exit 1."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from redis.exceptions import RedisError

from bot import __version__
from bot.backoff import describe
from bot.bundled import default_rules_path, demo_scenario
from bot.config import Settings, SettingsError, check_redis_url, load_settings
from bot.outbox.targets import ConsoleTarget, JsonLinesTarget, Target
from bot.posts import Post, post_lines, read_posts
from bot.rules import CompiledRules, Detector, RulesError, compile_rules, load_rules
from bot.runtime.logs import configure_logging, redact
from bot.runtime.replay import DEMO_INTRO, ignored_printer, run_replay
from bot.store.connection import RedisUnavailable
from bot.store.feedback import as_post_lines, read_feedback
from bot.telegram.app import TelegramNotReady

EXIT_OK = 0
EXIT_USER_ERROR = 1


class UserError(Exception):
    """A mistake the user can fix (a missing file, bad rules): shown as one line, exit 1."""


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--rules", type=Path, default=None, help="rules file (default: ./rules.yaml, else the bundled one)"
    )
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="log more, to stderr (run: every detail)"
    )
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="log less: warnings and errors only (run's default is INFO)",
    )
    return common


# Slower than a thousandth of real time, a day of posts takes three years: a typo, not a wish.
MIN_SPEED = 0.001


def _speed(value: str) -> float:
    """--speed: a finite number, at least MIN_SPEED (nan, 0, negatives and 1e-300 are refused)."""
    try:
        speed = float(value)
    except ValueError:
        speed = float("nan")
    if not (math.isfinite(speed) and speed >= MIN_SPEED):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a speed: give how many times faster than real, a number from {MIN_SPEED}"
        )
    return speed


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="frontwatch",
        description="Recognise reports that a city has fallen in posts, and alert subscribed Telegram chats.",
    )
    parser.add_argument("--version", action="version", version=f"frontwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser(
        "scan", parents=[common], help="rules only: one JSON line per match for posts in a JSONL file"
    )
    scan.add_argument("file", help="JSONL file of posts, or - for standard input")
    scan.set_defaults(handler=cmd_scan)

    redis_options = argparse.ArgumentParser(add_help=False)
    redis_options.add_argument(
        "--redis", default=None, help="Redis URL (default: REDIS_URL, else the embedded server)"
    )
    redis_options.add_argument("--json", action="store_true", help="alerts as JSON lines instead of text")

    replay = commands.add_parser(
        "replay",
        parents=[common, redis_options],
        help="the full pipeline (dedup, events, alerts) over a JSONL file",
    )
    replay.add_argument("file", help="JSONL file of posts, or - for standard input")
    replay.add_argument(
        "--speed", type=_speed, default=None, help="pace by created_at, N times faster than real"
    )
    replay.set_defaults(handler=cmd_replay)

    run = commands.add_parser(
        "run", parents=[common, redis_options], help="the live bot: Telegram commands and alert delivery"
    )
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser(
        "demo", parents=[common, redis_options], help="the Mazar-i-Sharif scenario of August 2021, end to end"
    )
    demo.add_argument(
        "--telegram",
        action="store_true",
        help="also send the alerts to the chats subscribed to your bot, each marked as a demo",
    )
    demo.set_defaults(handler=cmd_demo)

    feedback = commands.add_parser(
        "feedback",
        parents=[common, redis_options],
        help="the admins' verdicts on alerts (the buttons under each alert), as labelled posts",
    )
    feedback.add_argument(
        "--export", required=True, metavar="FILE", help="write Post JSONL with a `label` field (- for stdout)"
    )
    feedback.set_defaults(handler=cmd_feedback)

    check = commands.add_parser("check-rules", parents=[common], help="validate a rules file")
    check.add_argument("path", nargs="?", type=Path, help="rules file (default: as --rules)")
    check.set_defaults(handler=cmd_check_rules)

    explain = commands.add_parser(
        "explain", parents=[common], help="show why a text matches or not: triggers, cues, places tried"
    )
    explain.add_argument("text", help="the text to explain, or - to read one text per line of standard input")
    explain.set_defaults(handler=cmd_explain)
    return parser


def _rules_path(args: argparse.Namespace) -> Path:
    """--rules, else RULES_PATH, else ./rules.yaml, else the bundled file."""
    settings: Settings = args.settings
    return args.rules or settings.rules_path or default_rules_path()


def load_rules_or_fail(path: Path) -> CompiledRules:
    try:
        return compile_rules(load_rules(path))
    except RulesError as exc:
        raise UserError(exc.report()) from None


@contextmanager
def _open_input(name: str) -> Iterator[Iterator[str]]:
    """The lines of a file, or of stdin for `-`: both read as bytes and decoded alike (bot.posts)."""
    if name == "-":
        yield post_lines(sys.stdin.buffer)
        return
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UserError(f"{name}: cannot open ({exc.strerror})") from None
    with fh:
        yield post_lines(fh)


def _report_bad_line(name: str) -> Callable[[int, str], None]:
    label = "stdin" if name == "-" else name

    def report(line: int, reason: str) -> None:
        print(f"{label}:{line}: skipped: {reason}", file=sys.stderr)

    return report


def cmd_scan(args: argparse.Namespace) -> int:
    detector = Detector(load_rules_or_fail(_rules_path(args)))
    posts = matches = 0
    out = sys.stdout
    with _open_input(args.file) as fh:
        for post in read_posts(fh, _report_bad_line(args.file)):
            posts += 1
            for match in detector.detect(post):
                matches += 1
                out.write(match.model_dump_json() + "\n")
    out.flush()
    logging.getLogger("frontwatch.scan").info("scanned %d posts, %d matches", posts, matches)
    return EXIT_OK


def _targets(args: argparse.Namespace) -> list[Target]:
    return [JsonLinesTarget()] if args.json else [ConsoleTarget()]


def _replay(
    args: argparse.Namespace,
    posts: Iterable[Post],
    url: str | None,
    speed: float | None,
    prefix: str,
    telegram: Settings | None = None,
    embedded_db: Path | None = None,
    on_nothing: Callable[[Post], None] | None = None,
    rules: CompiledRules | None = None,
) -> int:
    rules = rules or load_rules_or_fail(_rules_path(args))
    try:
        result = asyncio.run(
            run_replay(
                posts,
                rules,
                url,
                _targets(args),
                speed,
                prefix,
                telegram=telegram,
                embedded_db=embedded_db,
                demo=args.command == "demo",
                on_nothing=on_nothing,
            )
        )
    except (RedisUnavailable, TelegramNotReady) as exc:
        raise UserError(str(exc)) from None
    except (RedisError, OSError) as exc:  # Redis went away after the start (during the drain, say)
        raise UserError(
            f"Redis went away during the replay ({describe(exc)}); what was recorded stays in the "
            "outbox and the next replay or `frontwatch run` delivers it"
        ) from None
    s = result.stats
    print(
        f"frontwatch: {s.posts} posts, {s.matched} matched, {s.duplicates} duplicates, "
        f"{s.alerts} alerts, {s.updates} updates ({s.folded} folded: retweets, copies, same outlet), "
        f"{result.delivered} delivered"
        + ("" if result.drained else "; some alerts are still waiting in the outbox")
        + (f"; {s.lost} matched posts LOST while Redis was down" if s.lost else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    with _open_input(args.file) as fh:  # posts are read as the replay goes, not all at once
        posts = read_posts(fh, _report_bad_line(args.file))
        return _replay(
            args, posts, args.redis or settings.redis_url, args.speed, settings.frontwatch_namespace
        )


DEMO_SECONDS = 6.0


def cmd_demo(args: argparse.Namespace) -> int:
    with _open_input(str(demo_scenario())) as fh:
        posts = list(read_posts(fh, _report_bad_line(str(demo_scenario()))))
    times = [p.created_at for p in posts if p.created_at]
    span = (max(times) - min(times)).total_seconds() if times else 0.0
    speed = span / DEMO_SECONDS if span else None
    settings: Settings = args.settings
    if args.telegram and settings.telegram_bot_token is None:
        raise UserError(
            "demo --telegram needs TELEGRAM_BOT_TOKEN (from @BotFather) in the environment or .env"
        )
    telegram = " but to your subscribed chats, each message marked 🧪 DEMO" if args.telegram else ""
    out = sys.stderr if args.json else sys.stdout
    print(DEMO_INTRO.format(seconds=DEMO_SECONDS, telegram=telegram), file=out)
    rules = load_rules_or_fail(_rules_path(args))
    ignored = ignored_printer(Detector(rules), out)
    url = args.redis or settings.redis_url
    # A fresh namespace each run, so the demo shows its alerts again however often it is run.
    prefix = f"fw-demo-{uuid.uuid4().hex[:8]}:"
    if args.telegram:
        # The Redis where `frontwatch run` keeps subscriptions, so subscribers get the demo.
        return _replay(args, posts, url, speed, prefix, settings, None, ignored, rules)
    if url is None:
        with tempfile.TemporaryDirectory(prefix="frontwatch-demo-") as data_dir:
            db = Path(data_dir) / "demo.rdb"
            return _replay(args, posts, None, speed, prefix, None, db, ignored, rules)
    return _replay(args, posts, url, speed, prefix, None, None, ignored, rules)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runtime.run import StartupFailed, run_bot

    settings: Settings = args.settings
    try:
        asyncio.run(run_bot(settings, _rules_path(args), args.redis or settings.redis_url))
    except StartupFailed as exc:
        raise UserError(f"not started: {exc}") from None
    return EXIT_OK


def cmd_feedback(args: argparse.Namespace) -> int:
    settings: Settings = args.settings

    try:
        entries = asyncio.run(read_feedback(args.redis or settings.redis_url, settings.frontwatch_namespace))
    except RedisUnavailable as exc:
        raise UserError(str(exc)) from None
    lines = [line + "\n" for line in as_post_lines(entries)]
    if args.export == "-":
        sys.stdout.writelines(lines)
    else:
        try:
            Path(args.export).write_text("".join(lines), encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{args.export}: cannot write ({exc.strerror})") from None
    print(f"frontwatch: {len(lines)} labelled posts from {len(entries)} verdicts", file=sys.stderr)
    return EXIT_OK


def cmd_check_rules(args: argparse.Namespace) -> int:
    path = args.path or _rules_path(args)
    try:
        compiled = compile_rules(load_rules(path))
    except RulesError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s); the file was not accepted", file=sys.stderr)
        return EXIT_USER_ERROR
    source = compiled.source
    triggers = sum(len(t) for r in source.rules for t in r.triggers.values())
    cues = sum(len(p) for fams in source.cues.values() for p in fams.model_dump().values())
    countries = {p.country for p in compiled.places.places}
    print(
        f"{path}: OK\n"
        f"  rules:     {len(source.rules)} ({', '.join(r.id for r in source.rules)})\n"
        f"  languages: {len(compiled.languages)} ({', '.join(compiled.languages)})\n"
        f"  triggers:  {triggers}, shared cancel cues: {cues}\n"
        f"  places:    {len(compiled.places.places):,} in {len(countries)} countries, "
        f"{len(compiled.places.names):,} names\n"
        f"  accounts:  {sum(len(g.accounts) for g in source.account_groups.values())} "
        f"in {len(source.account_groups)} group(s)"
    )
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from bot.rules.explain import explain

    detector = Detector(load_rules_or_fail(_rules_path(args)))
    texts = (line.rstrip("\n") for line in sys.stdin) if args.text == "-" else iter([args.text])
    for n, text in enumerate(t for t in texts if t.strip()):
        print(("\n" if n else "") + explain(detector, text))
    return EXIT_OK


def _log_level(args: argparse.Namespace) -> int:
    """`run` is a service: INFO by default (start-up, sources, deliveries). Other commands: warnings."""
    if args.command == "run":
        return logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    return logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = settings = load_settings()
        if getattr(args, "redis", None) is not None:
            check_redis_url(args.redis, "--redis")
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"frontwatch: {problem}", file=sys.stderr)
        return EXIT_USER_ERROR
    secrets = [s.get_secret_value() for s in (settings.telegram_bot_token, settings.x_bearer_token) if s]
    configure_logging(_log_level(args), settings.log_format, secrets)
    try:
        result: int = args.handler(args)
        return result
    except UserError as exc:
        print(f"frontwatch: {redact(str(exc), secrets)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one redacted line; the traceback with -v
        logging.getLogger("frontwatch").debug("unexpected error", exc_info=True)
        print(f"frontwatch: unexpected error: {redact(describe(exc), secrets)}", file=sys.stderr)
        return EXIT_USER_ERROR
