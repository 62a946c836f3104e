"""Config keys and values a user can mistype (issue 11's list; one line each, before anything runs)."""

CASES = [
    {"name": "search: unknown key trialz=3", "argv": ["search", "trialz=3", "results_dir={tmp}/r"]},
    {"name": "search: trials=many", "argv": ["search", "trials=many", "results_dir={tmp}/r"]},
    {"name": "search: unknown search space", "argv": ["search", "search_space=resnet50", "results_dir={tmp}/r"]},
    {"name": "search: train.epochz=3", "argv": ["search", "train.epochz=3", "results_dir={tmp}/r"]},
    {"name": "cost: unknown architecture", "argv": ["cost", "transformer", "--model-size-info", "1"]},
    {"name": "report: a folder that is no results folder", "argv": ["report", "{tmp}"]},
    {"name": "export: no such folder", "argv": ["export", "{tmp}/missing"]},
]
