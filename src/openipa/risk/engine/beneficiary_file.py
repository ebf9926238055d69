"""The beneficiary CSV that ``openipa risk score-file`` scores, and the CSV of scores it writes. Pure (bytes
in, frame or bytes out), vectorized, no Django.

Input, a header and one record per beneficiary, columns exactly::

    member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes

``date_of_birth`` YYYY-MM-DD, on or before February 1 of the payment year; ``sex`` M or F (CMS's 1 or 2
too); ``orec`` 0-3; ``medicaid`` the CMS dual-eligibility status code 00-10 (00 = not dual); and
``diagnosis_codes`` ICD-10-CM codes separated by spaces (with or without the dot; may be empty).

Two optional columns after these, read by the ESRD model (``ESRDV24``; the CMS-HCC models ignore them), in
either order, each at most once::

    crec           current reason for entitlement 0-3, or empty (unknown)
    graft_months   months since a kidney transplant, 1 = the month of the transplant (1-9999), or empty
                   (no transplant: on dialysis when the member has ESRD)

Output, ``member_id,raf,payment_raf,hccs``: raw and payment scores with three decimals, the HCCs separated
by spaces in numeric order, one record per input record in the input's order.

Public API::

    parse_beneficiaries(data: bytes, name: str, payment_year: int) -> pl.DataFrame
    scores_csv(scores: pl.DataFrame) -> bytes
    BeneficiaryFileError      # .errors: list[str], each naming file, line and column
"""

from __future__ import annotations

import io

import polars as pl

from openipa.risk.engine.score import DUAL_CODES, ORECS, SEXES, format_thousandths

__all__ = [
    "COLUMNS",
    "ESRD_COLUMNS",
    "OUTPUT_COLUMNS",
    "BeneficiaryFileError",
    "parse_beneficiaries",
    "scores_csv",
]

COLUMNS = ("member_id", "date_of_birth", "sex", "orec", "medicaid", "diagnosis_codes")
ESRD_COLUMNS = ("crec", "graft_months")
OUTPUT_COLUMNS = ("member_id", "raf", "payment_raf", "hccs")
ICD10 = r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?$"
MAX_ERRORS = 20


class BeneficiaryFileError(ValueError):
    """The file is rejected as a whole; ``errors`` lists the problems (at most 20), each naming file, line
    and column."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_beneficiaries(data: bytes, name: str, payment_year: int) -> pl.DataFrame:
    """Check the whole file and return the frame :func:`~openipa.risk.engine.score.score` takes.

    Line numbers count the header as line 1 and one line per record. Raises :class:`BeneficiaryFileError`.
    """
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    first = text.splitlines()[0] if text else ""
    header = [c.strip() for c in first.split(",")]
    extra = header[len(COLUMNS) :]
    if (
        tuple(header[: len(COLUMNS)]) != COLUMNS
        or len(set(extra)) != len(extra)
        or not set(extra) <= set(ESRD_COLUMNS)
    ):
        raise BeneficiaryFileError(
            [
                f"{name}, line 1: the header must be exactly {','.join(COLUMNS)}, optionally followed by "
                f"{' and/or '.join(ESRD_COLUMNS)} (found {first!r})"
            ]
        )
    try:
        raw = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            has_header=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        message = str(exc).splitlines()[0]
        raise BeneficiaryFileError([f"{name}: not a CSV of {len(COLUMNS)} columns: {message}"]) from None
    feb1 = pl.date(payment_year, 2, 1)
    frame = raw.with_row_index("line", offset=2).with_columns(
        pl.col(c).fill_null("").str.strip_chars() for c in (*COLUMNS, *extra)
    )
    frame = frame.with_columns(
        pl.col("date_of_birth").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("dob"),
        pl.col("diagnosis_codes")
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
        .alias("codes"),
    )
    checks: list[tuple[str, pl.Expr, str]] = [
        ("member_id", pl.col("member_id") == "", "is empty"),
        ("member_id", pl.col("member_id").is_duplicated() & (pl.col("member_id") != ""), "appears twice"),
        ("date_of_birth", pl.col("dob").is_null(), "is not a date YYYY-MM-DD"),
        ("date_of_birth", pl.col("dob") > feb1, f"is after February 1, {payment_year}"),
        ("sex", ~pl.col("sex").is_in(SEXES), "must be M or F"),
        ("orec", ~pl.col("orec").is_in(ORECS), "must be 0, 1, 2 or 3"),
        ("medicaid", ~pl.col("medicaid").is_in(DUAL_CODES), "must be a dual status code 00-10"),
    ]
    if "crec" in extra:
        checks.append(
            ("crec", ~pl.col("crec").is_in([*ORECS, ""]), "must be 0, 1, 2 or 3 (or empty: unknown)")
        )
    if "graft_months" in extra:
        months = pl.col("graft_months")
        checks.append(
            (
                "graft_months",
                (months != "")
                & (~months.str.contains(r"^[0-9]{1,4}$") | (months.str.count_matches("[1-9]") == 0)),
                "must be a whole number of months from 1 (the transplant month) to 9999, or empty",
            )
        )
    errors: list[tuple[int, int, str]] = []
    for order, (column, condition, problem) in enumerate(checks):
        bad = frame.filter(condition.fill_null(False)).head(MAX_ERRORS)
        for line, value in bad.select("line", column).iter_rows():
            errors.append((line, order, f"{name}, line {line}, column {column}: {value!r} {problem}"))
    bad_codes = (
        frame.select("line", "codes")
        .explode("codes")
        .drop_nulls("codes")
        .filter(~pl.col("codes").str.contains(ICD10))
        .head(MAX_ERRORS)
    )
    for line, code in bad_codes.iter_rows():
        errors.append(
            (
                line,
                len(checks),
                f"{name}, line {line}, column diagnosis_codes: {code!r} is not an ICD-10-CM code",
            )
        )
    if errors:
        errors.sort()
        raise BeneficiaryFileError([message for _, _, message in errors[:MAX_ERRORS]])
    optional = []
    if "crec" in extra:
        optional.append(pl.when(pl.col("crec") != "").then(pl.col("crec")).alias("crec"))
    if "graft_months" in extra:
        optional.append(
            pl.when(pl.col("graft_months") != "")
            .then(pl.col("graft_months").cast(pl.Int64, strict=False))
            .alias("graft_months")
        )
    return frame.select(
        "member_id",
        pl.col("dob").alias("date_of_birth"),
        "sex",
        "orec",
        "medicaid",
        pl.col("codes").alias("diagnosis_codes"),
        *optional,
    )


def scores_csv(scores: pl.DataFrame) -> bytes:
    """The output CSV of ``Scores.members`` (``member_id, raf, payment_raf, hccs``)."""
    out = scores.select(
        "member_id",
        format_thousandths(pl.col("raf")).alias("raf"),
        format_thousandths(pl.col("payment_raf")).alias("payment_raf"),
        pl.when(pl.col("hccs").list.len() > 0).then(pl.col("hccs").list.join(" ")).alias("hccs"),
    )
    buffer = io.BytesIO()
    out.write_csv(buffer)
    return buffer.getvalue()
