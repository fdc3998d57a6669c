import itertools
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_838_encoder_learns_eight_distinct_codes():
    result = subprocess.run([sys.executable, str(EXAMPLES / "encoder_838.py")], capture_output=True, text=True,
                            check=True)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["input", "hidden", "values", "output"]
    rows = [line.split() for line in lines[1:9]]
    for row in rows:
        assert row[0] == row[4], f"{row[0]} reconstructed as {row[4]}"  # thresholded output == input
    codes = [tuple(float(v) for v in row[1:4]) for row in rows]
    closest = min(max(abs(a - b) for a, b in zip(p, q)) for p, q in itertools.combinations(codes, 2))
    assert closest > 0.25, f"two hidden codes are nearly equal (max-norm distance {closest})"
    assert "reconstructed correctly: 8/8" in result.stdout


def test_semi_supervised_on_disk_example_classifies_better_than_chance(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "semi_supervised_on_disk.py"), "--epochs", "2",
                             "--labels", "50", "--workdir", str(tmp_path)], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("4000 training rows read from") and "50 of them labelled" in lines[0]
    assert sorted(p.name for p in (tmp_path / "train").iterdir())[0] == "part-000.npy"
    accuracy = float(lines[1].split()[2])
    assert accuracy > 0.3, result.stdout  # ten classes: chance is 0.1
