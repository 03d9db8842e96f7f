"""Where the terminal sends a researcher to browse a study's runs."""

from studies.tracking.ui import mlflow_ui_command, runs_url


def test_runs_url_is_the_model_training_view_of_the_ui_that_serves_the_store(tmp_path):
    sqlite = f"sqlite:///{tmp_path}/mlflow.db"
    assert runs_url(sqlite, "3") == "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
    assert "--host 127.0.0.1" in mlflow_ui_command(sqlite, tmp_path)  # that UI's address
    assert runs_url("https://mlflow.example.org/", "3") == (
        "https://mlflow.example.org/#/experiments/3/runs?workflowType=machine_learning")
