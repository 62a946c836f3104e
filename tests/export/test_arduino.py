"""`kws-nas export --arduino`: the sketch folder's layout, its op resolver against the .tflite, and its
library-independent C parts built with the host compiler (model bytes and MFCC checked by running them)."""
from __future__ import annotations

import ctypes
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from nas.paths import FIRMWARE_DIR
from nas.cli import main
from nas.export import c_array

# class → (arch, model_size_info): a convolutional and a recurrent model cover different op sets
CLASSES = {"small": ("ds_cnn", [2, 8, 3, 4, 2, 2, 8, 3, 3, 1, 1]), "medium": ("gru", [1, 16])}
SKETCH_FILES = {"model_data.h", "model_data.cpp", "labels.h", "frontend_config.h", "frontend_tables.h",
                "mfcc.c", "mfcc.h", "mfcc_asm.h", "fe_decimate.c", "fe_decimate.h", "audio_provider.h",
                "audio_provider.cpp"}


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory, tiny_dataset_dir):
    import torch

    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import build_model, candidate_from_model_size_info
    from nas.train import save_checkpoint

    folder = tmp_path_factory.mktemp("results")
    # 24 frames: a short unroll for the GRU; decimation 2: the sketch carries the decimator too
    frontend = FrontEndConfig(stride_ms=40.0, decimation=2)
    rows = []
    for number, (budget_class, (arch, msi)) in enumerate(CLASSES.items()):
        candidate = candidate_from_model_size_info(arch, msi, frontend)
        torch.manual_seed(number)
        save_checkpoint(folder / f"trials/{number}/model.pt", build_model(candidate).eval(), candidate.to_dict(),
                        {"trial": number})
        rows.append({"study": "s", "number": number, "state": "COMPLETE", "feasible": True, "arch": arch,
                     "budget_class": budget_class, "val_acc": 0.5, "memory_bytes": 1000,
                     "checkpoint": f"trials/{number}/model.pt", "model_size_info": " ".join(map(str, msi))})
    pd.DataFrame(rows).to_csv(folder / "trials.csv", index=False)
    out = tmp_path_factory.mktemp("bundles")
    assert main(["export", str(folder), "--data", str(tiny_dataset_dir), "--out", str(out), "--top", "1",
                 "--arduino"]) == 0
    return out


def sketch_dir(export_dir, budget_class):
    return export_dir / budget_class / "arduino" / f"kws_{budget_class}"


@pytest.mark.parametrize("budget_class", sorted(CLASSES))
def test_sketch_folder_is_named_like_its_ino_and_holds_the_pipeline(export_dir, budget_class):
    sketch = sketch_dir(export_dir, budget_class)
    assert {p.name for p in sketch.iterdir()} == SKETCH_FILES | {f"kws_{budget_class}.ino"}
    ino = (sketch / f"kws_{budget_class}.ino").read_text()
    for needed in ("void setup()", "void loop()", "#include <TensorFlowLite.h>", "kws_read_audio(",
                   "kws_mfcc_compute(", "Invoke()", "Serial.print"):
        assert needed in ino
    assert c_array.parse_c_array((sketch / "model_data.cpp").read_text()) == (
        export_dir / budget_class / "model.tflite").read_bytes()
    assert (sketch / "mfcc.c").read_text() == (FIRMWARE_DIR / "src" / "mfcc.c").read_text()


def _tflite_op_names(model: bytes) -> set[str]:
    """Builtin op names as TensorFlow's own interpreter lists them (independent of nas.export.tflite)."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=model)
    return {op["op_name"] for op in interpreter._get_ops_details()}


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
@pytest.mark.parametrize("budget_class", sorted(CLASSES))
def test_resolver_registers_exactly_the_models_ops(export_dir, budget_class):
    sketch = sketch_dir(export_dir, budget_class)
    ino = (sketch / f"kws_{budget_class}.ino").read_text()
    registered = re.findall(r"resolver\.Add(\w+)\(\);", ino)
    ops = _tflite_op_names((export_dir / budget_class / "model.tflite").read_bytes())
    # TFLite Micro's method names: CONV_2D → AddConv2D, FULLY_CONNECTED → AddFullyConnected
    expected = {"".join(part.upper() if part[0].isdigit() else part.capitalize() for part in op.split("_"))
                for op in ops}
    assert len(registered) == len(set(registered)) and set(registered) == expected
    assert f"MicroMutableOpResolver<{len(expected)}>" in ino
    if budget_class == "medium":
        assert {"Unpack", "Logistic", "Tanh"} <= expected  # the unrolled GRU's ops are there


@pytest.fixture(scope="module")
def compilers():
    if shutil.which("gcc") is None or shutil.which("g++") is None:
        pytest.skip("host gcc/g++ missing")


def test_library_independent_sources_build_on_the_host(export_dir, compilers, tmp_path):
    sketch = sketch_dir(export_dir, "small")
    for source in ("audio_provider.cpp", "model_data.cpp"):
        subprocess.run(["g++", "-std=c++17", "-Wall", "-Werror", "-fsyntax-only", str(sketch / source)],
                       check=True, capture_output=True)
    # every header together, as the .ino includes them, and the model array linked and written back out
    (tmp_path / "dump.cpp").write_text(
        '#include <stdio.h>\n#include "audio_provider.h"\n#include "frontend_config.h"\n#include "labels.h"\n'
        '#include "model_data.h"\nextern "C" {\n#include "mfcc.h"\n}\n'
        "static_assert(KWS_NUM_LABELS == KWS_NUM_CLASSES, \"labels\");\n"
        "static_assert(KWS_FE_NUM_FRAMES == KWS_NUM_FRAMES && KWS_FE_N_MFCC == KWS_MFCC_COUNT, \"front end\");\n"
        "int main(int, char** argv) {\n  FILE* f = fopen(argv[1], \"wb\");\n"
        "  fwrite(g_kws_model_data, 1, g_kws_model_data_len, f);\n  fclose(f);\n"
        "  return ((unsigned long)g_kws_model_data % 16 != 0) + (kws_labels[2][0] != 'y');\n}\n")
    exe = tmp_path / "dump"
    subprocess.run(["g++", "-std=c++17", f"-I{sketch}", str(tmp_path / "dump.cpp"), str(sketch / "model_data.cpp"),
                    "-o", str(exe)], check=True, capture_output=True)
    subprocess.run([str(exe), str(tmp_path / "bytes.bin")], check=True)
    assert (tmp_path / "bytes.bin").read_bytes() == (export_dir / "small" / "model.tflite").read_bytes()


def test_sketch_mfcc_matches_the_training_front_end(export_dir, compilers, tmp_path):
    import torch

    from nas.data.frontend import MfccFrontEnd
    from nas.spaces import Candidate

    card = json.loads((export_dir / "small" / "model_card.json").read_text())
    config = Candidate.from_dict(card["candidate"]).frontend
    sketch = sketch_dir(export_dir, "small")
    lib_path = tmp_path / "libmfcc.so"
    assert config.decimation == 2 and "#define KWS_DECIMATION          2" in (sketch / "frontend_config.h").read_text()
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{sketch}", str(sketch / "mfcc.c"), str(sketch / "fe_decimate.c"),
                    "-o", str(lib_path), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    rng = np.random.default_rng(0)
    t = np.arange(config.clip_samples) / config.sample_rate
    pcm = (6000 * np.sin(2 * np.pi * 700 * t) * (t > 0.3) + rng.normal(0, 300, t.size)).astype(np.int16)
    got = np.zeros(config.num_frames * config.n_mfcc, np.int8)
    lib.kws_mfcc_compute(pcm.ctypes.data_as(ctypes.c_void_p), got.ctypes.data_as(ctypes.c_void_p))
    fe = MfccFrontEnd(config)
    want = fe.quantize_int8(fe(torch.from_numpy(pcm.astype(np.float32) / 32768.0)[None])).numpy().reshape(-1)
    assert np.abs(got.astype(int) - want).max() <= 1
    assert np.unique(want).size > 10  # a clip with structure, not a constant feature map
