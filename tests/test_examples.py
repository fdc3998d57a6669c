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
