"""The ecosystem commands' parts, without certifying anything: corpus files, the shard split, the
report format, merging, and the Markdown and HTML renderings."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kora_conformance import _cli
from kora_conformance.ecosystem.corpus import CorpusError, Entry, corpus_schema, load_corpus, slug
from kora_conformance.ecosystem.html import render_html
from kora_conformance.ecosystem.report import (
    MergeError,
    badge,
    certified_record,
    document,
    failed_record,
    markdown,
    merge,
    report_schema,
    write_json,
)
from kora_conformance.ecosystem.shard import costs_from, parse_shard, split

COMMIT = "89916e7ea49914c99745fe637f9c45440ef165c7"


def _corpus(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corpus.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- corpus -------------------------------------------------------------------------------------


def test_a_corpus_lists_packages_repositories_and_paths(tmp_path: Path) -> None:
    path = _corpus(
        tmp_path,
        f"""
[defaults]
requirements = ["hermes-agent==0.19.0"]
env = {{ HERMES_DISABLE_LAZY_INSTALLS = "1" }}

[[target]]
package = "acp-hermes==0.3.2"
entry_point = "acp"

[[target]]
repository = "https://example.invalid/owner/gate.git"
commit = "{COMMIT}"
subdirectory = "plugins/gate"
env = {{ GATE_TOKEN = "dummy" }}

[[target]]
path = "plugins/marvin"
""",
    )

    package, repository, local = load_corpus(path)

    assert package.id == "acp-hermes==0.3.2"
    assert (package.name, package.version, package.entry_point) == ("acp-hermes", "0.3.2", "acp")
    assert package.requirements == ("hermes-agent==0.19.0",)
    assert package.needs_environment
    assert repository.id == f"https://example.invalid/owner/gate.git@{COMMIT}/plugins/gate"
    assert repository.name == "gate"
    assert dict(repository.env) == {"HERMES_DISABLE_LAZY_INSTALLS": "1", "GATE_TOKEN": "dummy"}
    assert local.id == "plugins/marvin"
    assert local.path == (tmp_path / "plugins" / "marvin").resolve()
    assert local.source() == {"kind": "path", "path": str(local.path)}


def test_a_plugin_directory_needs_no_environment_but_a_requirement_gives_it_one(
    tmp_path: Path,
) -> None:
    path = _corpus(
        tmp_path,
        '[[target]]\npath = "a"\n\n[[target]]\npath = "b"\nrequirements = ["httpx"]\n\n'
        '[[target]]\npath = "c"\ninstall = true\n',
    )

    assert [e.needs_environment for e in load_corpus(path)] == [False, True, True]


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('package = "acp-hermes"\nentry_point = "acp"', ["target 1", "package", "does not match"]),
        ('package = "acp-hermes==0.3.2"', ["target 1", "'entry_point' is a required property"]),
        (
            'repository = "https://example.invalid/r"\ncommit = "89916e7"',
            ["target 1", "commit", "does not match"],
        ),
        ('path = "x"\ncolour = "red"', ["target 1", "'colour' was unexpected"]),
        ('path = "x"\npackage = "a==1"\nentry_point = "a"', ["exactly one of", "'package'"]),
        ('name = "x"', ["exactly one of", "none"]),
    ],
)
def test_a_bad_target_is_refused_naming_file_target_and_rule(
    tmp_path: Path, table: str, said: list[str]
) -> None:
    path = _corpus(tmp_path, f"[[target]]\n{table}\n")

    with pytest.raises(CorpusError) as caught:
        load_corpus(path)

    message = str(caught.value)
    assert str(path) in message
    assert "docs/ecosystem.md" in message
    for part in said:
        assert part in message


def test_two_targets_with_one_id_are_refused_with_the_fix(tmp_path: Path) -> None:
    path = _corpus(tmp_path, '[[target]]\npath = "x"\n\n[[target]]\npath = "x"\n')

    with pytest.raises(
        CorpusError, match=r"targets 1 and 2 are both 'x'; give one of them an 'id'"
    ):
        load_corpus(path)


def test_a_corpus_that_is_not_toml_says_so(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="is not valid TOML"):
        load_corpus(_corpus(tmp_path, "[[target]\n"))
    with pytest.raises(CorpusError, match="cannot be read"):
        load_corpus(tmp_path / "missing.toml")


def test_the_corpus_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(corpus_schema())
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_slugs_are_file_names_and_tell_ids_apart() -> None:
    ids = ["https://h/o/r@abc/plugins/x", "https://h/o/r@abc/plugins-x", "a==1", "plugins/marvin"]
    slugs = [slug(i) for i in ids]

    assert len(set(slugs)) == len(ids)
    assert all("/" not in s and ":" not in s for s in slugs)
    assert slug("plugins/marvin").startswith("plugins-marvin-")


# --- shards -------------------------------------------------------------------------------------


def _entries(count: int) -> list[Entry]:
    return [Entry(f"t{i:02d}", "path", path=Path(f"/p/t{i:02d}")) for i in range(count)]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_a_bad_shard_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(CorpusError, match="for example --shard 1/4"):
        parse_shard(text)


def test_parse_shard() -> None:
    assert parse_shard("2/5") == (2, 5)
    assert parse_shard(" 1 / 1 ") == (1, 1)


@pytest.mark.parametrize(("count", "shards"), [(16, 2), (17, 4), (5, 8), (1, 3)])
def test_shards_by_count_cover_the_corpus_once_and_differ_by_at_most_one(
    count: int, shards: int
) -> None:
    entries = _entries(count)

    parts = split(entries, shards)

    ids = [e.id for part in parts for e in part]
    assert sorted(ids) == sorted(e.id for e in entries)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


def test_the_split_does_not_depend_on_the_corpus_order() -> None:
    entries = _entries(23)
    shuffled = list(entries)
    random.Random(4).shuffle(shuffled)
    costs = {e.id: float(i % 7 + 1) for i, e in enumerate(entries)}

    assert split(entries, 3, costs) == split(shuffled, 3, costs)
    assert split(entries, 3) == split(shuffled, 3)


def test_durations_weigh_the_split() -> None:
    entries = _entries(6)
    costs = {"t00": 30.0, "t01": 10.0, "t02": 10.0, "t03": 5.0, "t04": 3.0, "t05": 2.0}

    first, second = split(entries, 2, costs)

    # The costliest alone would be 30 s against 30 s: the split is exact here.
    assert [e.id for e in first] == ["t00"]
    assert sum(costs[e.id] for e in second) == 30.0


def test_a_target_without_a_duration_counts_as_the_typical_one() -> None:
    entries = _entries(4)
    costs = {"t00": 8.0, "t01": 2.0, "t02": 4.0}  # t03 is new: the median, 4

    first, second = split(entries, 2, costs)

    # 8 + 2 against 4 + 4; had t03 counted 1, t01 would have joined t02 and t03 (4 + 2 + 1).
    assert [e.id for e in first] == ["t00", "t01"]
    assert [e.id for e in second] == ["t02", "t03"]


def test_costs_come_from_earlier_reports() -> None:
    entry = Entry("x", "path", path=Path("/p/x"))
    old = document([failed_record(entry, "error", "boom", install=3.0)])

    assert costs_from([old]) == {"x": 3.0}


# --- records, reports, merging ------------------------------------------------------------------


def _check(check_id: str, outcome: str, duration: float = 0.5) -> dict[str, Any]:
    failed = outcome == "failed"
    return {
        "id": check_id,
        "level": "MUST",
        "title": f"title of {check_id}",
        "rule": "a rule",
        "outcome": outcome,
        "message": "broke <it>" if failed else "",
        "expected": "an IdentitySpec" if failed else "",
        "seen": "a str <b>" if failed else "",
        "fix": "return IdentitySpec(...)" if failed else "",
        "duration": duration,
    }


def report2(name: str, verdict: str = "conformant", *failed: str) -> dict[str, Any]:
    """A minimal kora-conformance-report/2 document for one directory target."""
    checks = [_check("KC-PL-001", "passed", 1.0), *(_check(f, "failed") for f in failed)]
    return {
        "schema": "kora-conformance-report/2",
        "contract_level": "1",
        "verdict": verdict,
        "kit": {"version": "0.1.0"},
        "runtime": {"name": "reference_runtime", "version": "0.1.0"},
        "environment": {"python": "3.12.0", "pytest": "8.3.0", "hypothesis_seed": 0},
        "targets": [
            {
                "name": name,
                "version": "1.0",
                "route": "directory",
                "location": f"/p/{name}",
                "verdict": verdict,
                "checks": checks,
                "exemptions": [],
            }
        ],
    }


def _path_entry(name: str) -> Entry:
    return Entry(f"plugins/{name}", "path", path=Path(f"/p/{name}"))


def sample_document() -> dict[str, Any]:
    return document(
        [
            certified_record(_path_entry("zeta"), report2("zeta")),
            certified_record(
                _path_entry("alpha"),
                report2("alpha", "not-conformant", "KC-ID-001", "KC-PL-003"),
                install=2.0,
            ),
            failed_record(
                Entry("gone==1.0", "package", package="gone==1.0", entry_point="gone"),
                "uninstallable",
                "ERROR: No matching distribution found for gone==1.0",
                install=4.25,
            ),
        ]
    )


def test_records_say_verdict_failures_and_durations() -> None:
    data = sample_document()
    jsonschema.validate(data, report_schema())

    assert [r["id"] for r in data["targets"]] == ["gone==1.0", "plugins/alpha", "plugins/zeta"]
    gone, alpha, zeta = data["targets"]
    assert (gone["name"], gone["version"], gone["verdict"]) == ("gone", "1.0", "uninstallable")
    assert gone["report"] is None
    assert gone["duration"] == 4.25
    assert alpha["failed"] == ["KC-ID-001", "KC-PL-003"]
    # Its checks took 1 + 0.5 + 0.5 s, and installing it 2 s.
    assert alpha["durations"] == {"install": 2.0, "certify": 2.0}
    assert alpha["duration"] == 4.0
    assert zeta["verdict"] == "conformant"
    assert data["verdicts"] == {
        "error": 0,
        "uninstallable": 1,
        "not-conformant": 1,
        "needs-host": 0,
        "incomplete": 0,
        "nothing-checked": 0,
        "conformant": 1,
    }


@pytest.mark.parametrize(
    ("verdicts", "worst"),
    [
        (["conformant", "needs-host"], "needs-host"),
        (["nothing-checked", "conformant"], "nothing-checked"),
        (["incomplete", "nothing-checked"], "incomplete"),
        (["needs-host", "not-conformant"], "not-conformant"),
        (["conformant"], "conformant"),
    ],
)
def test_an_entry_with_several_targets_takes_the_worst_verdict(
    verdicts: list[str], worst: str
) -> None:
    from kora_conformance.ecosystem.run import worst_verdict

    assert worst_verdict(verdicts) == worst


def test_the_schema_refuses_an_uninstallable_record_without_its_reason() -> None:
    data = sample_document()
    data["targets"][0]["reason"] = ""

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_schema())


def _write_doc(path: Path, records: list[dict[str, Any]]) -> Path:
    write_json(path, document(records))
    return path


def test_merging_shards_gives_every_target_once(tmp_path: Path) -> None:
    records = sample_document()["targets"]
    one = _write_doc(tmp_path / "one.json", records[:1])
    two = _write_doc(tmp_path / "two.json", records[1:])
    again = _write_doc(tmp_path / "again.json", records[1:2])  # identical: no conflict

    merged = merge([two, one, again])

    assert merged == sample_document()


def test_a_target_in_two_reports_with_different_results_is_an_error(tmp_path: Path) -> None:
    record = sample_document()["targets"][2]
    changed = {**record, "duration": record["duration"] + 1}
    one = _write_doc(tmp_path / "one.json", [record])
    two = _write_doc(tmp_path / "two.json", [changed])

    with pytest.raises(MergeError) as caught:
        merge([one, two])

    message = str(caught.value)
    assert "'plugins/zeta'" in message
    assert str(one) in message
    assert str(two) in message
    assert "merge the reports of one run only" in message


def test_merge_refuses_what_is_not_an_ecosystem_report(tmp_path: Path) -> None:
    single = tmp_path / "report.json"
    single.write_text(json.dumps(report2("x")), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**sample_document(), "targets": [{"id": "x"}]}))

    with pytest.raises(MergeError, match="single certification's report"):
        merge([single])
    with pytest.raises(MergeError, match="breaks the ecosystem report schema at targets/0"):
        merge([broken])
    with pytest.raises(MergeError, match="cannot be read as JSON"):
        merge([tmp_path / "missing.json"])


def test_markdown_has_one_row_per_target() -> None:
    text = markdown(sample_document())
    lines = text.splitlines()

    assert "3 targets: 1 conformant, 1 not conformant, 1 uninstallable." in lines
    header = lines.index("| Plugin | Version | Verdict | Failed checks | Duration |")
    assert lines[header + 2 :] == [
        "| gone | 1.0 | 📦 UNINSTALLABLE | ERROR: No matching distribution found for gone==1.0 "
        "| 4.2 s |",
        "| alpha | 1.0 | ❌ NOT CONFORMANT | KC-ID-001, KC-PL-003 | 4.0 s |",
        "| zeta | 1.0 | ✅ CONFORMANT |  | 1.0 s |",
    ]


def test_a_badge_per_plugin() -> None:
    gone, alpha, zeta = sample_document()["targets"]

    assert badge(zeta) == {
        "schemaVersion": 1,
        "label": "kora zeta",
        "message": "conformant",
        "color": "brightgreen",
    }
    assert badge(alpha)["message"] == "not conformant"
    assert badge(gone)["color"] == "orange"


def test_the_page_escapes_and_expands_failures() -> None:
    page = render_html(sample_document())

    assert page.count("<tr data-id=") == 3
    assert "a str &lt;b&gt;" in page  # what the plugin returned, escaped
    assert "<b>KC-ID-001</b> MUST" in page
    assert page.count("<details>") == 2  # alpha's checks, gone's reason; zeta has none
    assert "No matching distribution found for gone==1.0</pre>" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from elsewhere


def test_the_cli_merges_into_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = sample_document()["targets"]
    one = _write_doc(tmp_path / "one.json", records[:2])
    two = _write_doc(tmp_path / "two.json", records[2:])
    out = tmp_path / "out"

    status = _cli.main(
        [
            "merge",
            str(one),
            str(two),
            "--json",
            str(out / "merged.json"),
            "--markdown",
            str(out / "summary.md"),
            "--html",
            str(out / "index.html"),
            "--badges",
            str(out / "badges"),
        ]
    )

    assert status == 0
    assert "merged 3 targets from 2 reports" in capsys.readouterr().out
    assert json.loads((out / "merged.json").read_text()) == sample_document()
    assert (out / "summary.md").read_text() == markdown(sample_document())
    assert (out / "index.html").read_text().startswith("<!DOCTYPE html>")
    assert len(list((out / "badges").glob("*.json"))) == 3

    assert _cli.main(["merge", str(one)]) == 0
    assert capsys.readouterr().out == markdown(document(records[:2]))


def test_the_cli_says_what_is_wrong_with_a_merge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _cli.main(["merge", str(tmp_path / "nothing.json")])

    assert status == 4
    assert "kora-conformance: " in capsys.readouterr().err


def test_the_cli_lists_a_shard_without_installing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "".join(f'[[target]]\npath = "p{i}"\n\n' for i in range(5))
    path = _corpus(tmp_path, text)

    assert _cli.main(["ecosystem", str(path), "--shard", "2/2", "--list"]) == 0
    out = capsys.readouterr().out
    assert "shard 2/2: 2 of 5 targets" in out
    assert "p1  (path; expected -)" in out
    assert not (tmp_path / "kora-ecosystem").exists()


def test_the_cli_reports_a_bad_corpus_or_shard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _corpus(tmp_path, '[[target]]\npath = "p"\n')

    assert _cli.main(["ecosystem", str(path), "--shard", "3/2"]) == 4
    assert "--shard '3/2' is not K/N" in capsys.readouterr().err
    assert _cli.main(["ecosystem", str(tmp_path / "none.toml")]) == 4
    assert "cannot be read" in capsys.readouterr().err


def test_two_packages_with_one_plugin_name_are_told_apart_in_the_table() -> None:
    def acp(package: str) -> dict[str, Any]:
        entry = Entry(package, "package", package=package, entry_point="acp")
        return certified_record(entry, report2("acp"))

    text = markdown(document([acp("acp-hermes==0.3.2"), acp("hermes-acp==0.2.4")]))

    assert "| acp (acp-hermes) | 1.0 |" in text
    assert "| acp (hermes-acp) | 1.0 |" in text
