"""The names lineage is recorded under (the demo uses the same): MLflow run tags and an Optuna user attribute."""

from __future__ import annotations

TAG_PATH = "workbench.data.path"
TAG_VERSION = "workbench.data.version"
TAG_COMMIT = "workbench.data.git_commit"
TAG_MD5 = "workbench.data.dvc_md5"
TAG_UNCOMMITTED = "workbench.data.uncommitted"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_STUDY = "optuna.study_name"
TAG_TRIAL = "optuna.trial_number"
TRIAL_RUN_ATTR = "mlflow_run_id"
DATA_TAGS = (TAG_PATH, TAG_VERSION, TAG_COMMIT, TAG_MD5)
