"""``qc feedback export``: reviewed findings as annotated samples, rejected hits as allowlist entries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_file, same_file
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db
from qc.errors import ConfigError

feedback_app = typer.Typer(
    no_args_is_help=True,
    help="Learn from review verdicts.\n\n\b\nExample:\n    qc feedback export --out review.jsonl",
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
@handle_errors
def export_cli(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="JSON Lines file (default: stdout).")
    ] = None,
    allow_out: Annotated[
        Path | None,
        typer.Option(
            "--allow-out", help="TOML snippet of [[allow]] entries (default: next to --out as *.allow.toml)."
        ),
    ] = None,
    mask_pii: Annotated[
        bool,
        typer.Option(
            "--mask-pii/--show-pii",
            help="Mask buyers' phones, ID/order/tracking numbers, e-mails, addresses and names (the"
            " default: the file goes into annotated_samples/, a folder of the repository); --show-pii"
            " writes them as said.",
        ),
    ] = True,
    by_id: Annotated[
        bool,
        typer.Option(
            "--by-id",
            help="Write label lines by conversation id and message index, no text (the form of"
            " annotated_samples/real/labels.jsonl), for chats whose licence lets only labels into the"
            " repository, such as the real chats beside the project.",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write reviewed findings as annotated samples (shared ANNOTATION.md format).

    Confirmed findings get their attitude label (impatience, conflict), rejected ones `ok`
    (left out while another finding of the reply, not rejected, still charges it).
    Every decision the store holds is exported, the latest of each finding: write one file and
    replace it each time (annotated_samples/review.jsonl), then `qc train`. Buyers' personal
    data is masked unless --show-pii is given. Each rejected lexicon hit inside a longer phrase
    comes with the [[allow]] entry for lexicons/forbidden.toml that would have prevented it.

    Chats licensed for labels only (the real chats beside the project) are exported with
    --by-id: label lines to add to annotated_samples/real/labels.jsonl, which `qc train` reads,
    the texts taken from the chats when it runs: their text never enters the repository.

    \b
    Example:
        qc feedback export --out annotated_samples/review.jsonl --db out/qc.sqlite
        qc feedback export --by-id --out review-labels.jsonl
        qc feedback export > feedback.jsonl
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    import json

    from qc.outputs.atomic import is_stream, write_text_replacing
    from qc.supervise.feedback import allow_snippet, feedback_samples
    from qc.text.pii import Masker

    for path, option in ((out, "--out"), (allow_out, "--allow-out")):
        if path is not None:
            output_file(path, option, example="samples.jsonl" if option == "--out" else "samples.allow.toml")
    if out is not None and allow_out is not None and same_file(out, allow_out):
        # The snippet replaced the samples, and the summary still named them (audit 152 M4).
        raise ConfigError(
            f"--allow-out {allow_out} is the --out file; give the snippet a file of its own,"
            f" e.g. {out.with_suffix('.allow.toml')}"
        )
    with open_db(db) as store:
        result = feedback_samples(store, mask=Masker(mask_pii))
    rows = result.labels_by_id() if by_id else result.samples
    lines = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in rows)
    if out is None:
        typer.echo(lines, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_replacing(out, lines)
    # Beside a file only: /dev/stdout.allow.toml was made inside /dev, and /dev/fd/3's failed (audit
    # 143 M5). A stream's snippet goes to stderr, as without --out.
    beside = out is not None and not is_stream(out)
    allow_path = allow_out or (out.with_suffix(".allow.toml") if out is not None and beside else None)
    if result.allow:
        snippet = allow_snippet(result.allow)
        if allow_path is None:
            err(snippet)
        else:
            write_text_replacing(allow_path, snippet)
    for reason in result.skipped:
        err(f"skipped {reason}")
    err(
        f"{len(rows)} {'labels by id' if by_id else 'samples'}"
        + (f" → {out}" if out else "")
        + f", {sum(1 for a in result.allow if a['phrase'])} allowlist suggestions"
        + (f" → {allow_path}" if result.allow and allow_path else "")
    )
