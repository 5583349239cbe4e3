"""``kora-conformance ecosystem`` certifying real plugins: local paths only, nothing from the
network. A corpus certified in two shards, by two processes at once, and merged, gives the report
of one unsharded run; a target that cannot be installed or found is that target's result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kora_conformance import by_id
from kora_conformance.ecosystem.corpus import load_corpus, slug
from kora_conformance.ecosystem.install import Installer, InstallFailed
from kora_conformance.ecosystem.report import report_schema
from kora_conformance.ecosystem.run import RunOptions, certify_corpus, stable_root

REPO = Path(__file__).resolve().parents[1]
REPORT2 = json.loads((REPO / "kora_conformance" / "report.schema.json").read_text("utf-8"))
#: Shipped mutants whose checks are quick (no daemon timeouts), each breaking one MUST check.
#: A few mutants of each kind of outcome (a load failure, a MUST and a SHOULD plugin check, two
#: identity checks): what the run says of each mutant is the self-test's to prove, not this one's.
MUTANTS = (
    "pl001_import_error",
    "pl003_typo_hook",
    "pl004_undeclared_hook",
    "id001_returns_str",
    "id006_overrides_system",
)

GOOD_PLUGIN = """\
from reference_runtime import IdentitySpec

SPEC = IdentitySpec("", "You are Eco.", {"agent_name": "Eco", "plugin_name": "kct_eco_good"})


def provider(**kwargs):
    return SPEC


def register(ctx):
    ctx.register_identity_provider(provider)
"""


def _write_plugins(root: Path) -> list[Path]:
    good = root / "kct_eco_good"
    good.mkdir(parents=True)
    (good / "plugin.yaml").write_text(
        "name: kct_eco_good\nversion: '2.0.0'\nhooks: [pre_agent_identity_set]\n",
        encoding="utf-8",
    )
    (good / "__init__.py").write_text(GOOD_PLUGIN, encoding="utf-8")
    stray = root / "not_a_plugin"
    stray.mkdir()
    (stray / "README.md").write_text("nothing to load here\n", encoding="utf-8")
    return [good, stray]


def _corpus(tmp_path: Path) -> Path:
    paths = [REPO / "plugins" / name for name in ("marvin", "kora", "listener_example")]
    paths += [REPO / "kora_conformance" / "mutants" / name for name in MUTANTS]
    paths += _write_plugins(tmp_path / "written")
    corpus = tmp_path / "corpus.toml"
    corpus.write_text("".join(f"[[target]]\npath = {str(p)!r}\n\n" for p in paths), "utf-8")
    return corpus


def _kit(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.Popen(
        [sys.executable, "-m", "kora_conformance", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(processes: Sequence[subprocess.Popen[str]]) -> list[str]:
    outputs = [p.communicate(timeout=1200)[0] for p in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
    return outputs


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_timings(v) for k, v in value.items() if k not in {"duration", "durations"}
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.mark.slow
def test_two_shards_merged_equal_one_unsharded_run(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    entries = load_corpus(corpus)
    assert len(entries) == 10
    common = ("--seed", "3", "--max-examples", "3")

    # The unsharded run and the two shards, as three processes at once; the shards with one
    # worker each, the whole with two, so that neither the split nor the worker count can
    # change a result.
    _finish(
        [
            _kit("ecosystem", corpus, "--out", "whole", "--jobs", "2", *common, cwd=tmp_path),
            _kit(
                "ecosystem",
                corpus,
                "--shard",
                "1/2",
                "--out",
                "s1",
                "--jobs",
                "1",
                *common,
                cwd=tmp_path,
            ),
            _kit(
                "ecosystem",
                corpus,
                "--shard",
                "2/2",
                "--out",
                "s2",
                "--jobs",
                "1",
                *common,
                cwd=tmp_path,
            ),
        ]
    )
    _finish(
        [_kit("merge", "s1/report.json", "s2/report.json", "--json", "merged.json", cwd=tmp_path)]
    )

    whole = json.loads((tmp_path / "whole" / "report.json").read_text("utf-8"))
    merged = json.loads((tmp_path / "merged.json").read_text("utf-8"))
    shards = [json.loads((tmp_path / s / "report.json").read_text("utf-8")) for s in ("s1", "s2")]
    assert sorted(len(s["targets"]) for s in shards) == [5, 5]
    assert {r["id"] for r in shards[0]["targets"]}.isdisjoint(r["id"] for r in shards[1]["targets"])
    assert _without_timings(merged) == _without_timings(whole)

    for data in (whole, merged, *shards):
        jsonschema.validate(data, report_schema())
    records = {Path(r["source"]["path"]).name: r for r in whole["targets"]}
    assert len(records) == 10
    for name in ("marvin", "kora", "listener_example", "kct_eco_good"):
        assert records[name]["verdict"] == "conformant", records[name]
    for name in MUTANTS:
        record = records[name]
        check_id = f"KC-{name[:2].upper()}-{name[2:5]}"
        (target,) = record["report"]["targets"]
        outcome = next(c["outcome"] for c in target["checks"] if c["id"] == check_id)
        if by_id(check_id).level == "MUST":
            assert record["verdict"] == "not-conformant", record
            assert check_id in record["failed"], record
            assert outcome == "failed"
        else:  # under the default gate a SHOULD check warns
            assert record["verdict"] == "conformant", record
            assert outcome == "warned"
        jsonschema.validate(record["report"], REPORT2)
    assert records["kct_eco_good"]["version"] == "2.0.0"
    stray = records["not_a_plugin"]
    assert stray["verdict"] == "error"
    assert "is not a plugin: it has no plugin.yaml" in stray["reason"]
    # One report per target, each an ecosystem report of that target alone.
    for record in whole["targets"]:
        single = json.loads(
            (tmp_path / "whole" / "targets" / f"{slug(record['id'])}.json").read_text("utf-8")
        )
        assert single["targets"] == [record]


class _NoIndex(Installer):
    """An installer whose package index has nothing, as a mistyped pin would meet."""

    def __init__(self, scratch: Path) -> None:
        super().__init__("pip", scratch, kit="kora-conformance")
        self.asked: list[list[str]] = []

    def create(self, env_dir: Path, requirements: Sequence[str]) -> tuple[Path, float]:
        self.asked.append(list(requirements))
        msg = f"pip exited 1 installing {requirements[0]}:\nERROR: No matching distribution"
        raise InstallFailed(msg)


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
        },
    )
    return done.stdout.strip()


def test_install_failures_are_results_and_a_pinned_repository_is_certified(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "upstream"
    _write_plugins(repo / "plugins")
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "plugins", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    missing = "0" * 40
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(
        f'[[target]]\npackage = "ghost-hermes==9.9.9"\nentry_point = "ghost"\n'
        f'requirements = ["hermes-agent==0.19.0"]\n\n'
        f"[[target]]\nrepository = {str(repo)!r}\ncommit = {commit!r}\n"
        f'subdirectory = "plugins/kct_eco_good"\n\n'
        f"[[target]]\nrepository = {str(repo)!r}\ncommit = {commit!r}\n"
        f'subdirectory = "plugins/elsewhere"\n\n'
        f"[[target]]\nrepository = {str(repo)!r}\ncommit = {missing!r}\n",
        encoding="utf-8",
    )
    installer = _NoIndex(tmp_path / "scratch")
    seen: list[str] = []

    data = certify_corpus(
        load_corpus(corpus),
        RunOptions(out=tmp_path / "out", jobs=2, max_examples=3),
        progress=lambda record: seen.append(record["id"]),
        installer=installer,
    )

    records = {r["id"]: r for r in data["targets"]}
    jsonschema.validate(data, report_schema())
    assert sorted(seen) == sorted(records)
    ghost = records["ghost-hermes==9.9.9"]
    assert ghost["verdict"] == "uninstallable"
    assert "No matching distribution" in ghost["reason"]
    assert installer.asked == [["ghost-hermes==9.9.9", "hermes-agent==0.19.0"]]
    good = records[f"{repo}@{commit}/plugins/kct_eco_good"]
    assert good["verdict"] == "conformant", good
    assert good["name"] == "kct_eco_good"
    assert good["durations"]["install"] > 0  # the checkout
    # Where it was checked out depends on the target only, not on this run's --out, so that a
    # shard's report of it equals the whole corpus's.
    assert str(tmp_path) not in json.dumps(good["report"])
    assert good["report"]["targets"][0]["location"].startswith(str(stable_root()))
    elsewhere = records[f"{repo}@{commit}/plugins/elsewhere"]
    assert elsewhere["verdict"] == "uninstallable"
    assert (
        "has no directory 'plugins/elsewhere'; fix the target's 'subdirectory'"
        in (elsewhere["reason"])
    )
    absent = records[f"{repo}@{missing}"]
    assert absent["verdict"] == "uninstallable"
    assert f"git could not check out commit {missing}" in absent["reason"]
    # Environments and checkouts are gone; reports and logs stay.
    assert not (tmp_path / "out" / "work").exists()
    assert not list((stable_root() / "src").glob(f"{slug(good['id'])}*"))
    assert len(list((tmp_path / "out" / "targets").glob("*.json"))) == 4
    assert list((tmp_path / "out" / "logs").glob("*.txt"))
