"""The seven Hello Edge architectures and TC-ResNet: specs, PyTorch builders and search spaces.

`get_space(name)` loads ``search_spaces/<name>.yaml``; ``space.sample(trial)`` returns a `Candidate`;
`build_model(candidate)` gives the float model ([B, T, F] → logits [B, 12]).
"""
from nas.spaces import basic_lstm, cnn, crnn, dnn, ds_cnn, gru, lstm, tc_resnet  # noqa: F401  (registers the specs)
from nas.spaces.base import (
    NUM_CLASSES,
    ArchSpec,
    Candidate,
    SearchSpace,
    arch_names,
    build_model,
    candidate_from_model_size_info,
    spec_class,
)
from nas.spaces.hello_edge import HELLO_EDGE_BEST, hello_edge_candidates
from nas.spaces.loader import get_space

__all__ = [
    "NUM_CLASSES", "ArchSpec", "Candidate", "SearchSpace", "arch_names", "build_model",
    "candidate_from_model_size_info", "spec_class", "get_space", "HELLO_EDGE_BEST", "hello_edge_candidates",
]
