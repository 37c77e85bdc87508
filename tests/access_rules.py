"""Per-user access rules for the demo workspace, shared by the access tests: alice (group reviewers) and bob
see disjoint experiments and studies; only alice sees the dataset."""

DEMO_ACCESS = {
    "groups": {"reviewers": ["alice"]},
    "allow": {
        "reviewers": {"experiments": ["cancer-baselines"], "studies": ["cancer-accuracy-vs-size"],
                      "datasets": ["data/cancer.csv"]},
        "bob": {"experiments": ["cancer-tuning"], "studies": ["cancer-gb-tuning"]},
    },
}
