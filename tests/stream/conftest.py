"""A ten-minute labelled stream from the tiny generated dataset, and a small int8 model trained on that dataset."""
from __future__ import annotations

import csv
import json

import pytest

from nas.data.frontend_config import FrontEndConfig

STREAM_SECONDS = 600.0


@pytest.fixture(scope="session")
def labelled_stream(tiny_dataset_dir, tmp_path_factory):
    """(wav path, label CSV path, samples, label rows) of a 10-minute stream of the tiny dataset's words."""
    from nas.data.long_stream import LABEL_COLUMNS, StreamSettings, build_stream
    from nas.data.wav import write_wav

    # the tiny set's test split has one voice: take the words from its train split, which has several
    samples, labels = build_stream(tiny_dataset_dir, StreamSettings(seconds=STREAM_SECONDS, split="train"))
    folder = tmp_path_factory.mktemp("stream")
    wav, table = folder / "stream.wav", folder / "stream.csv"
    write_wav(wav, samples)
    with table.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LABEL_COLUMNS)
        writer.writeheader()
        writer.writerows(labels)
    return wav, table, samples, labels


@pytest.fixture(scope="session")
def stream_model(tiny_dataset_dir, tmp_path_factory):
    """A folder with model.tflite (a DS-CNN trained for a few hundred steps) and its model_card.json."""
    import torch

    from nas.data.cache import load_features
    from nas.export.tflite import convert
    from nas.spaces import build_model, candidate_from_model_size_info

    frontend = FrontEndConfig()
    data = load_features(tiny_dataset_dir, frontend, "train", progress=False)
    candidate = candidate_from_model_size_info("ds_cnn", [2, 16, 5, 4, 2, 2, 16, 3, 3, 1, 1], frontend)
    torch.manual_seed(0)
    model = build_model(candidate)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(300):
        idx = torch.randint(0, len(data.labels), (32,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(data.features[idx]), data.labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    folder = tmp_path_factory.mktemp("stream_model")
    (folder / "model.tflite").write_bytes(convert(model, frontend, data.features.numpy(), "ds_cnn"))
    (folder / "model_card.json").write_text(json.dumps({"candidate": candidate.to_dict()}))
    return folder
