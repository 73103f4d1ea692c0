"""One compute pool that waits passively (core/threads.py), read by the real runtimes in fresh processes: OpenMP
reads its environment once, when torch or faiss loads, so each case starts its own interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.threads import prepare, thread_count, usable_cores
from tests.conftest import ROOT, WAIT_S


def run_python(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS", "QA_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=environ | env, stdin=subprocess.DEVNULL, timeout=10 * WAIT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_prepare_waits_passively_unless_a_person_chose_a_wait():
    assert prepare_into({})["OMP_WAIT_POLICY"] == "PASSIVE"
    assert prepare_into({"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"
    chosen = prepare_into({"GOMP_SPINCOUNT": "10000"})
    assert "OMP_WAIT_POLICY" not in chosen and chosen["GOMP_SPINCOUNT"] == "10000"
    assert prepare_into({})["TOKENIZERS_PARALLELISM"] == "false"


def prepare_into(environ: dict) -> dict:
    prepare(environ)
    return environ


def test_the_thread_count_is_the_setting_then_qa_threads_then_the_usable_cores():
    assert thread_count(3, {"QA_THREADS": "1"}) == 3
    assert thread_count(0, {"QA_THREADS": "1"}) == 1
    assert thread_count(0, {}) == usable_cores() == len(os.sched_getaffinity(0))
    assert thread_count(0, {"QA_THREADS": "many"}) == usable_cores()  # Settings reports the bad value itself
    assert prepare_into({"QA_THREADS": "1"})["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize("how", ["every usable core", "QA_THREADS=1", "pinned to one core"])
def test_torch_and_faiss_share_one_pool_sized_from_the_cores_this_process_may_use(how):
    # Pinned before anything loads: the pool follows the affinity (taskset, a container), not the machine's cores.
    code = ("import os, json; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}) if os.environ.get('PIN') "
            "else None; import core; from core.threads import apply; import torch, faiss; apply(); "
            "print(json.dumps([os.environ['OMP_WAIT_POLICY'], torch.get_num_threads(), "
            "torch.get_num_interop_threads(), faiss.omp_get_max_threads()]))")
    env = {"QA_THREADS=1": {"QA_THREADS": "1"}, "pinned to one core": {"PIN": "1"}}.get(how, {})
    expected = usable_cores() if how == "every usable core" else 1
    assert json.loads(run_python(code, **env)) == ["PASSIVE", expected, 1, expected]


def test_answering_leaves_the_pool_as_the_settings_size_it(seed_index):
    # The reader once resized torch's pool around each forward pass, racing the encoder in other threads.
    code = (f"import json, core; from qa.assistant import Assistant; a = Assistant.load({str(seed_index)!r}); "
            "r = a.answer('Who led the Russian delegation in Budapest?'); import torch, faiss; "
            "print(json.dumps([r.answer.text, torch.get_num_threads(), faiss.omp_get_max_threads()]))")
    text, torch_threads, faiss_threads = json.loads(run_python(code, QA_THREADS="1"))
    assert "Kislyak" in text and torch_threads == faiss_threads == 1


def test_a_training_run_in_the_background_lowers_its_own_priority():
    code = ("import os; from eval.train_reader import be_a_good_neighbour; start = os.nice(0); "
            "be_a_good_neighbour({argv}); print(os.nice(0) - start)")
    # run_python gives the child no terminal, as nohup or a job runner would: it counts as in the background.
    assert run_python(code.format(argv="['--data', 'x', '--out', 'y']")) == "10"
    assert run_python(code.format(argv="['--data', 'x', '--out', 'y', '--nice', '3']")) == "3"
    assert run_python(code.format(argv="['--data', 'x', '--out', 'y', '--nice', '0']")) == "0"
