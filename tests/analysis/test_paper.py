"""`python -m analysis.paper` on a store of known SES runs: which studies it finds (parent runs tagged with seed note
001), which run each table comes from, its numbers, the figures under the seed's names, the studies found without a
finished run, bad input, and the PDF (--pdf) where a TeX engine is on PATH."""

from __future__ import annotations

import contextlib
import io
import re
from types import SimpleNamespace

import numpy as np
import pytest
from mlflow.entities import Param
from mlflow.tracking import MlflowClient
from scipy import stats

from analysis.paper import main
from hpstudy.schema import tags as T
from tests.analysis.conftest import T0, _trial, ses_tags
from tests.analysis.test_paper_pdf import HAS_TEX, NO_TEX

SEEDS = (0, 1, 2)
BETA_SWEEP = {"baseline": 0.80, "beta=0.5": 0.82, "beta=0.9": 0.81}  # test/acc of seed 0 (see test_acc)
MIXUP = {"none": 0.60, "none+ses": 0.63, "mixup": 0.61, "mixup+ses": 0.66}
TRAIN = [0.70, 0.90, 0.99]  # train/acc per epoch; the test split measures epoch 2's weights (checkpoint.keep=best)
TEST_EPOCH = 2
# each test study's line in seed 001 (as the catalogue declares it, and the study runner tags its parent runs)
EXPERIMENTS = {"ses_beta_sweep": "Exp 2", "ses_periodic": "Exp 10", "ses_mixup_cutmix": "Exp 12",
               "ses_vit_beta_sweep": "Exp 17a", "ses_vit_layers": "Exp 17b"}


def final_acc(config: str, seed: int, table: dict) -> float:
    """Seeds differ (0.01 * seed^2); an SES config's gain does too (+0.4 pp per seed), so Δ has a spread."""
    return table[config] + 0.01 * seed ** 2 + (0.004 * seed if "ses" in config or "beta" in config else 0.0)


def rob(config: str, seed: int) -> float:
    return 0.5 + (0.03 if config != "baseline" else 0.0) + 0.005 * seed


def _study(client, exp, start, *, study, profile, status, configs, params, with_rob, table,
           catalogue: dict[str, str] | None = None) -> str:
    """A parent run and its trials; `catalogue`: its seed note tags (default: seed 001's line of `study`)."""
    catalogue = ses_tags(EXPERIMENTS[study], f"{study}: a test study") if catalogue is None else catalogue
    tags = {"hpstudy.role": "study", "hpstudy.study": study, "hpstudy.profile": profile, "hpstudy.status": status,
            "hpstudy.baseline": configs[0], "hpstudy.git_sha": "abc123", **catalogue}
    parent = client.create_run(exp, start_time=start, tags=tags).info.run_id
    client.log_batch(parent, params=[Param("study.metric", "val/acc")])
    t = start + 1
    for config in configs:
        for seed in SEEDS:
            extra = [{"train/acc": a, "sys/epoch_s": 1.0 + 0.2 * ("ses" in config or "beta" in config)}
                     for a in TRAIN]
            extra[-1].update({"test/acc": final_acc(config, seed, table), "test/epoch": TEST_EPOCH})
            if with_rob:
                extra[-1].update({"rob/acc": rob(config, seed), "rob/acc/fog": rob(config, seed) - 0.1,
                                  "rob/acc/gaussian_noise": rob(config, seed) + 0.1})
            _trial(client, exp, parent, t, params={"seed": seed, **params(config)}, accs=[0.5, 0.8, 0.7],
                   extra=extra, tags={"hpstudy.trial_id": f"{config}_{seed}", "hpstudy.seed": str(seed),
                                      "hpstudy.config_name": config, "hpstudy.status": "completed"})
            t += 1
    client.set_terminated(parent, "FINISHED" if status == "completed" else "KILLED")
    return parent


def _beta(config: str) -> dict:
    return ({"ses.enabled": False} if config == "baseline" else
            {"ses.enabled": True, "ses.beta": float(config.split("=")[1])}) | {"rob.enabled": True, "epochs": 3}


def _mix(config: str) -> dict:
    return {"ses.enabled": config.endswith("+ses"), "rob.enabled": False, "epochs": 3,
            **({"recipe.mixup_alpha": 1.0} if config.startswith("mixup") else {})}


@pytest.fixture(scope="module")
def paper_store(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("paper") / "hpstudy_runs"
    runs_dir.mkdir()
    uri = f"sqlite:///{runs_dir}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    beta = client.create_experiment("ses_beta_sweep", artifact_location=(runs_dir / "a").as_uri())
    kw = {"study": "ses_beta_sweep", "configs": list(BETA_SWEEP), "params": _beta, "with_rob": True,
          "table": BETA_SWEEP}
    older = _study(client, beta, T0, profile="local", status="completed", **kw)
    used = _study(client, beta, T0 + 100_000, profile="local", status="completed", **kw)
    newest = _study(client, beta, T0 + 200_000, profile="local", status="interrupted", **kw)
    mix = client.create_experiment("ses_mixup_cutmix", artifact_location=(runs_dir / "b").as_uri())
    mix_run = _study(client, mix, T0, study="ses_mixup_cutmix", profile="full", status="completed",
                     configs=list(MIXUP), params=_mix, with_rob=False, table=MIXUP)
    periodic = client.create_experiment("ses_periodic", artifact_location=(runs_dir / "c").as_uri())
    smoke = _study(client, periodic, T0, study="ses_periodic", profile="smoke", status="completed",
                   configs=["baseline", "beta=0.5"], params=_beta, with_rob=True, table=BETA_SWEEP)
    # finished runs the paper must not take: another seed note's study, and a parent run without the catalogue tags
    # (logged before the study runner wrote them)
    other = client.create_experiment("vit_stability", artifact_location=(runs_dir / "d").as_uri())
    _study(client, other, T0, study="vit_stability", profile="local", status="completed", configs=list(MIXUP),
           params=_mix, with_rob=False, table=MIXUP, catalogue={T.SEED_NOTE: "002", T.EXPERIMENT: "Exp 1"})
    untagged = client.create_experiment("ses_dynamics", artifact_location=(runs_dir / "e").as_uri())
    _study(client, untagged, T0, study="ses_dynamics", profile="local", status="completed", configs=list(MIXUP),
           params=_mix, with_rob=False, table=MIXUP, catalogue={})
    return SimpleNamespace(uri=uri, runs_dir=runs_dir, older=older, used=used, newest=newest, mix=mix_run,
                           smoke=smoke)


def run_main(argv: list[str]) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return SimpleNamespace(rc=rc, out=out.getvalue(), err=err.getvalue())


@pytest.fixture(scope="module")
def paper(paper_store):
    """The default paper (--runs-dir, default --out), built once."""
    result = run_main(["--runs-dir", str(paper_store.runs_dir)])
    assert result.rc == 0, result.err
    out = paper_store.runs_dir / "paper"
    return SimpleNamespace(dir=out, md=(out / "paper.md").read_text(), tex=(out / "paper.tex").read_text(),
                           stdout=result.out)


def section(md: str, name: str) -> str:
    """The Markdown section headed `## NAME` or `## Exp N: NAME`."""
    start = re.search(rf"^## (.*: )?{re.escape(name)}$", md, re.M).start()
    end = md.find("\n## ", start)
    return md[start:end if end > 0 else None]


def row(text: str, config: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {config} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_each_table_is_the_latest_finished_run_and_says_its_profile_and_n(paper, paper_store):
    methods = section(paper.md, "Methods")
    assert row(methods, "Exp 2") == ["Exp 2", "ses_beta_sweep", "local", "val/acc", "3", paper_store.used]
    assert row(methods, "Exp 12")[1:3] == ["ses_mixup_cutmix", "full"]
    assert paper_store.older not in paper.md
    assert f"Newer runs not used (unfinished): ses_beta_sweep: {paper_store.newest} (interrupted)" in methods
    assert "_Table: Exp 2: ses_beta_sweep, profile `local`, n = 3 seeds per configuration._" in paper.md
    assert "_Table: Exp 12: ses_mixup_cutmix, profile `full`, n = 3 seeds per configuration._" in paper.md


def test_the_methods_say_once_what_every_table_shares(paper):
    """The protocol, the statistics, the columns and the git commit are said once, above the tables; each table's
    caption says only its study, profile and n (the seed's author found 10-line captions drowning the tables)."""
    methods = section(paper.md, "Methods")
    assert "all at git abc123" in methods and "**Statistics.**" in methods and "**Columns.**" in methods
    assert "**Protocol.** not recorded" in methods  # the test store's parent runs carry no hpstudy.protocol tag
    for text in (paper.md, paper.tex):
        assert text.count("bootstrap BCa") == 1 and text.count("abc123") == 1
    captions = [line for line in paper.tex.splitlines() if line.startswith(r"\caption{")]
    assert max(len(c) for c in captions) < 120, captions
    assert r"\caption{Exp 2: ses\_beta\_sweep, profile local, n = 3 seeds per configuration.}" in captions


def test_acc_is_the_test_figure_and_delta_is_paired_by_seed(paper):
    beta = section(paper.md, "ses_beta_sweep")
    acc = [final_acc("beta=0.5", s, BETA_SWEEP) * 100 for s in SEEDS]
    base = [final_acc("baseline", s, BETA_SWEEP) * 100 for s in SEEDS]
    cells = row(beta, "beta=0.5")
    assert cells[1] == "3"
    assert cells[2] == f"{np.mean(acc):.2f} ± {np.std(acc, ddof=1):.2f}"
    d = np.subtract(acc, base)
    ci = stats.bootstrap((d,), np.mean, n_resamples=10_000, rng=np.random.default_rng(0)).confidence_interval
    p = stats.ttest_rel(acc, base).pvalue
    assert cells[5].startswith(f"{d.mean():+.2f} [{ci.low:+.2f}, {ci.high:+.2f}] p={p:.3f} (Holm ")
    assert "; MDE " in cells[5]
    rob_d = np.mean([(rob("beta=0.5", s) - rob("baseline", s)) * 100 for s in SEEDS])
    assert cells[6].startswith(f"{rob_d:+.2f} [")
    assert row(beta, "baseline")[5] == "—" and row(beta, "baseline")[2] == f"{np.mean(base):.2f} ± " \
        f"{np.std(base, ddof=1):.2f}"


def test_gap_is_train_acc_of_the_tested_epoch_minus_test_acc(paper):
    beta = section(paper.md, "ses_beta_sweep")
    gaps = [(TRAIN[TEST_EPOCH - 1] - final_acc("baseline", s, BETA_SWEEP)) * 100 for s in SEEDS]
    assert row(beta, "baseline")[3] == f"{np.mean(gaps):.2f} ± {np.std(gaps, ddof=1):.2f}"


def test_an_ses_arm_is_paired_with_its_ses_off_twin_and_unmeasured_robustness_says_why(paper):
    mix = section(paper.md, "ses_mixup_cutmix")
    assert row(mix, "mixup+ses")[2] == "mixup" and row(mix, "none+ses")[2] == "none"
    assert row(mix, "mixup")[2] == "none"  # not an SES arm: the study's baseline
    acc = [final_acc("mixup+ses", s, MIXUP) for s in SEEDS]
    ref = [final_acc("mixup", s, MIXUP) for s in SEEDS]
    cell = row(mix, "mixup+ses")[6]
    assert cell.startswith(f"{np.mean(np.subtract(acc, ref)) * 100:+.2f} [")
    assert f"p={stats.ttest_rel(acc, ref).pvalue:.3f} (Holm " in cell
    assert row(mix, "mixup+ses")[5] == "—"  # Rob
    assert "Rob —: robustness not measured: rob.enabled is off in this study." in mix
    assert row(mix, "mixup+ses")[8] == "1.20 ± 0.00 (+20%)"  # Time/ep against its twin


def test_figures_carry_the_seeds_names_and_undrawable_ones_say_why(paper):
    figures = {p.name for p in (paper.dir / "figures").iterdir()}
    assert {"02_beta_sweep.png", "17_augmentation.png"} <= figures
    assert "![02_beta_sweep.png](figures/02_beta_sweep.png)" in paper.md
    assert ("_17c_augmentation_percorruption.png not drawn: no per-corruption robustness "
            "(rob/acc/<corruption>) was logged._") in paper.md
    assert r"\includegraphics[width=\linewidth]{figures/02_beta_sweep.png}" in paper.tex


def test_every_ses_study_found_without_a_finished_run_is_listed(paper):
    listed = paper.md[paper.md.index("## Without a finished run"):]
    assert listed.count("\n- ") == 1
    assert "- Exp 10: ses_periodic — only --smoke rehearsals (give --profile smoke to report them)" in listed
    assert "ses_beta_sweep" not in listed


def test_the_studies_are_those_the_store_holds_in_experiment_order(paper):
    """A study never run leaves no trace in the store, so the paper says it covers the studies found there."""
    assert "of each of the 3 SES studies found in the store (parent runs tagged with seed note 001" in paper.md
    assert "2 with a finished run, 1 without" in paper.md
    assert "2 of the 3 SES studies found in the store" in paper.stdout
    assert "without a finished run: ses_periodic" in paper.stdout
    # "Exp 2" before "Exp 12", as `--list` orders them; each section titled and described by its tags
    assert paper.md.index("## Exp 2: ses_beta_sweep\n\nses_beta_sweep: a test study") < paper.md.index(
        "## Exp 12: ses_mixup_cutmix")


def test_a_parent_run_without_seed_note_001_is_not_in_the_paper(paper):
    for text in (paper.md, paper.tex, paper.stdout, (paper.dir / "paper.csv").read_text()):
        assert "vit_stability" not in text and "ses_dynamics" not in text


def test_latex_holds_the_same_numbers(paper):
    cells = row(section(paper.md, "ses_beta_sweep"), "beta=0.5")
    assert cells[2].replace(" ± ", r" $\pm$ ") in paper.tex
    assert paper.tex.startswith(r"\documentclass{article}") and paper.tex.rstrip().endswith(r"\end{document}")


def test_profile_smoke_reports_the_rehearsal(paper_store, tmp_path):
    result = run_main(["--tracking-uri", paper_store.uri, "--out", str(tmp_path), "--profile", "smoke"])
    assert result.rc == 0, result.err
    md = (tmp_path / "paper.md").read_text()
    assert row(section(md, "Methods"), "Exp 10")[-1] == paper_store.smoke and "ses_beta_sweep — no finished run" in md
    assert (tmp_path / "figures" / "14_periodic_ses.png").is_file()  # Exp 10's Pareto plot of Acc vs Time/ep


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
def test_pdf_compiles_the_paper_without_a_latex_error(paper_store, tmp_path):
    """Every part of the document (Methods, tables with and without a Δ vs column, figures, a figure not drawn, the
    joined figures' section, the studies without a finished run) through pdflatex; any LaTeX error fails it."""
    result = run_main(["--tracking-uri", paper_store.uri, "--out", str(tmp_path), "--pdf"])
    assert result.rc == 0, result.err
    assert (tmp_path / "paper.pdf").read_bytes().startswith(b"%PDF")
    assert result.out.splitlines()[-1].startswith(f"pdf: {tmp_path / 'paper.pdf'}, ") and "pages" in result.out
    log = (tmp_path / "paper.log").read_text()
    assert "Float too large" not in log and "/fonts/pk/" not in log  # every float fits; no glyph is a bitmap


def test_pdf_without_tex_says_how_to_install_it_and_leaves_the_rest_written(paper_store, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no_bin"))
    result = run_main(["--tracking-uri", paper_store.uri, "--out", str(tmp_path), "--pdf"])
    assert result.rc == 2
    assert result.err.count("\n") == 1 and result.err.startswith(
        "error: --pdf needs pdflatex or latexmk on PATH, and neither is there; install them: apt-get install "), \
        result.err
    assert all((tmp_path / name).is_file() for name in ("paper.md", "paper.tex", "paper.csv"))
    assert not (tmp_path / "paper.pdf").exists()


@pytest.fixture(scope="module")
def empty_uri(tmp_path_factory):
    """A real MLflow store that holds no study."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('empty')}/mlflow.db"
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri


@pytest.mark.parametrize("argv, message", [
    (["--runs-dir", "{tmp}/nowhere"], "error: no MLflow store at {tmp}/nowhere/mlflow.db"),
    (["--tracking-uri", "nosuchscheme://x"], "error: cannot read the MLflow store nosuchscheme://x"),
    (["--tracking-uri", "{empty}"], "error: no SES study in {empty}: no parent run tagged hpstudy.seed_note=001"),
    (["--runs-dir", "{runs}", "--tracking-uri", "{empty}"], "usage:"),
])
def test_bad_input_is_one_line_and_exit_2(paper_store, empty_uri, tmp_path, argv, message):
    names = {"tmp": tmp_path, "empty": empty_uri, "runs": paper_store.runs_dir}
    if message == "usage:":  # argparse: the two ways to name the store exclude each other
        with pytest.raises(SystemExit) as stop, contextlib.redirect_stderr(io.StringIO()):
            main([a.format(**names) for a in argv])
        assert stop.value.code == 2
        return
    result = run_main([a.format(**names) for a in argv])
    assert result.rc == 2
    assert result.err.count("\n") == 1 and result.err.startswith(message.format(**names)), result.err


def test_a_figure_the_seed_names_is_drawn_by_one_study_only():
    """`ses_search` ("Exp 2/7/9/10/16 as one search") wrote `02_beta_sweep.png` over `ses_beta_sweep`'s (found on the
    local runs of every study, 2026-12-07); a study of two experiments draws both's figures. Owners are computed over
    the studies found in the store: here a store where every SES study of the catalogue ran."""
    from analysis.paper_figures import figures_of, owners
    from studies import registry  # the catalogue, for this test's store only: analysis itself never reads it

    entries = [(e.name, e.experiment) for _, group in registry.groups() for e in group if e.seed == "001"]
    owned = owners(entries)
    names = {study: [f[0] for f in figures_of(study, experiment, owned)] for study, experiment in entries}
    assert names["ses_beta_sweep"] == ["02_beta_sweep.png"] and names["ses_search"] == ["02_ses_search.png"]
    assert names["ses_robustness_cifar10"] == ["03_corruption_robustness.png", "06_multiseed_cifar10.png"]
    every = [name for studies in names.values() for name in studies]
    assert len(every) == len(set(every)), "two studies write one file"
    # where the store holds only the search, the search is the one study reproducing Exp 2
    alone = owners([("ses_search", "Exp 2/7/9/10/16 as one search")])
    assert figures_of("ses_search", "Exp 2/7/9/10/16 as one search", alone)[0][0] == "02_beta_sweep.png"


def test_a_search_with_one_completed_configuration_draws_no_bars(tmp_path):
    """ASHA stops most of a search's trials before their test figure: one bar says nothing, the report says more."""
    import pandas as pd

    from analysis.paper_figures import NotDrawn, draw
    from analysis.seed_table import seed_table

    trials = pd.DataFrame({"run_id": ["a", "b", "c"], "config": ["lr=0.1", "lr=0.2", "lr=0.3"],
                           "status": ["completed", "early_stopped", "early_stopped"], "seed": [0, 0, 0],
                           "val/acc": [0.8, 0.5, 0.4], "test/acc": [0.79, None, None]})
    with pytest.raises(NotDrawn, match="a search, and 1 of its 3 configurations completed"):
        draw("bars", None, trials, seed_table(trials, "val/acc", None), tmp_path / "x.png", "t", None)
    trials.loc[1, ["status", "test/acc"]] = ["completed", 0.6]
    draw("bars", None, trials, seed_table(trials, "val/acc", None), tmp_path / "x.png", "t", None)
    assert (tmp_path / "x.png").is_file()


def latex_problems(text: str) -> list[str]:
    from tests.analysis.latex_check import problems

    return problems(text)


def test_the_latex_parses_strictly_and_holds_nothing_pdflatex_stops_at(paper):
    assert latex_problems(paper.tex) == []


@pytest.mark.parametrize(("text", "found"), [
    (r"\begin{document} a \begin{table} b \end{document}", "does not parse"),
    (r"\begin{document} {a \end{document}", "does not parse"),
    (r"\begin{document} val_acc \end{document}", "unescaped '_'"),
    ("\\begin{document} 5% of it\n\\end{document}", "text after an unescaped %"),
    (r"\begin{document} a & b \end{document}", "unescaped '&'"),
    (r"\begin{document} \pm \end{document}", r"\pm outside math"),
    (r"\begin{document} \kappa \end{document}", r"unknown macro \kappa"),
    ("\\begin{document} κ(J) \\end{document}", "non-ASCII character 'κ'"),
])
def test_the_latex_check_finds_what_pdflatex_stops_at(text, found):
    from tests.analysis.latex_check import problems

    assert any(p.startswith(found) for p in problems(text)), problems(text)
    ok = r"\begin{document} \includegraphics{figures/02_beta_sweep.png} $\pm$ 5\% \begin{tabular}{lr} a & b \\ " \
         r"\end{tabular} \end{document}"
    assert problems(ok) == []
