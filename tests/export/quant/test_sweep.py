"""PTQ vs QAT on a small trained model, and the quant-sweep verb's CSV and figure."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from nas.export.quant import IntFormat, accuracy, qat_finetune, quantized_copy
from nas.export.quant.fake_quant import calibration_rows


def test_qat_is_at_least_as_accurate_as_ptq_at_4_bits(trained, feature_sets):
    model, _ = trained("ds_cnn")
    train, val = feature_sets["train"], feature_sets["validation"]
    fmt = IntFormat(4, symmetric=True, per_channel=False)
    float_acc = accuracy(model, val.features, val.labels)
    ptq = accuracy(quantized_copy(model, fmt), val.features, val.labels)
    qat = accuracy(qat_finetune(model, fmt, train.features, train.labels, steps=150), val.features, val.labels)
    assert ptq < float_acc, "4-bit per-tensor PTQ should cost this model accuracy (else the test shows nothing)"
    assert qat >= ptq


def test_qat_trains_on_augmented_batches(trained, feature_sets):
    model, _ = trained("dnn")
    train = feature_sets["train"]
    seen = []

    def augment(x):
        seen.append(x.shape)
        return x.flip(1)

    qat_finetune(model, IntFormat(4), train.features, train.labels, steps=7, batch=32, augment=augment)
    assert seen == [torch.Size([32, *train.features.shape[1:]])] * 7


def test_calibration_rows_come_from_the_whole_set():
    rows = torch.arange(5000, dtype=torch.float32)[:, None, None].expand(5000, 2, 3).contiguous()
    picked = calibration_rows(rows)[:, 0, 0]
    assert len(picked) == 1000 and picked.min() < 250 and picked.max() > 4750
    assert len(torch.unique(picked)) == 1000


def test_quantized_copy_leaves_the_float_model_alone(trained):
    model, _ = trained("cnn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    quantized_copy(model, IntFormat(3))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_quant_sweep_cli_writes_both_curves_from_2_to_8_bits(tmp_path, tiny_dataset_dir):
    from nas.cli import main
    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import build_model, candidate_from_model_size_info
    from nas.train import save_checkpoint

    candidate = candidate_from_model_size_info("dnn", [24], FrontEndConfig(stride_ms=40.0))
    checkpoint = save_checkpoint(tmp_path / "run" / "model.pt", build_model(candidate), candidate.to_dict(), {})
    out = tmp_path / "sweep"
    assert main(["quant-sweep", str(checkpoint), "--data", str(tiny_dataset_dir), "--out", str(out),
                 "--qat-steps", "5"]) == 0
    df = pd.read_csv(out / "quant_sweep.csv")
    for method in ("ptq", "qat", "minifloat"):
        assert sorted(df[df["method"] == method]["bits"]) == list(range(2, 9))
    assert df["accuracy"].between(0, 1).all()
    assert (df["activation_bits"] == 8).all()  # int8 activations by default, as on the board
    assert (df["split"] == "test").all()  # the search chose its trials on validation
    assert (out / "quant_sweep.html").is_file()

    assert main(["quant-sweep", str(checkpoint), "--data", str(tiny_dataset_dir), "--out", str(out),
                 "--qat-steps", "0", "--bits", "3-4", "--activation-bits", "same", "--split", "validation"]) == 0
    df = pd.read_csv(out / "quant_sweep.csv")
    assert (df["activation_bits"] == df["bits"]).all() and sorted(set(df["bits"])) == [3, 4]
    assert (df["split"] == "validation").all()


def test_quant_sweep_of_a_lone_checkpoint_needs_data(tmp_path, capsys):
    from nas.cli import main

    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    assert main(["quant-sweep", str(checkpoint)]) == 2
    assert "--data: needed for a single checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1", "17", "int8", ""])
def test_quant_sweep_refuses_a_bad_activation_width(value, tmp_path, capsys):
    from nas.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["quant-sweep", str(tmp_path), "--data", str(tmp_path), "--activation-bits", value])
    assert exit_info.value.code == 2
    assert "--activation-bits" in capsys.readouterr().err


def test_sweep_figure_keeps_legend_entries_short_and_under_the_plot():
    from nas.export.quant import sweep_figure

    models = {"small: ds_cnn [5 64 10 4 2 2 64 3 3 1 1 64 3 3 1 1 64 3 3 1 1 64 3 3 1 1] mfcc=10 win=40ms stride=20ms": 0.9,
              "large: dnn [436 436 436] mfcc=10 win=40ms stride=40ms": 0.8}
    df = pd.DataFrame([{"model": m, "method": method, "bits": b, "format": f"int{b}", "accuracy": f - 0.1 / b,
                        "float_accuracy": f} for m, f in models.items() for method in ("ptq", "qat") for b in (4, 8)])
    fig = sweep_figure(df, "t")
    names = [t.name for t in fig.data]
    assert names == ["small ptq", "small qat", "large ptq", "large qat"]
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # under the plot, not beside it
    assert all(t.hovertemplate.startswith(t.name.split()[0] + ": ") for t in fig.data)  # the description, on hover
    note = fig.layout.legend.title.text
    assert all(m in note for m in models)
    assert len({t.line.color for t in fig.data if t.name.endswith("ptq")}) == 1  # colour = method
    assert [t.line.dash for t in fig.data] == ["solid", "solid", "dash", "dash"]  # dash = model
    floats = sorted(a.text for a in fig.layout.annotations if "float" in a.text)
    assert floats == ["large float 80.00 %", "small float 90.00 %"]
