"""The benchmarks' own databases: never the application's or a test run's."""

import pytest

from bench import dataset


@pytest.mark.parametrize("name", ["rapport", "test_rapport", "test_bench_helper"])
def test_benchmarks_refuse_the_applications_and_the_tests_databases(name):
    with pytest.raises(ValueError, match="never"):
        dataset.create_database(name)
    with pytest.raises(ValueError, match="never"):
        dataset.drop_database(name)


def test_benchmark_children_run_with_production_settings_on_the_given_database(tmp_path):
    env = dataset.bench_env("postgres://postgres@127.0.0.1:5432/rapport_bench", str(tmp_path))

    assert env["DATABASE_URL"].endswith("/rapport_bench")
    assert env["DEBUG"] == "0"
    assert env["RAPPORT_VAR_DIR"] == str(tmp_path)
