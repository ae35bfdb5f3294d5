"""What `pip install .` installs: every file of the two packages and of assets/, not only the code."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLED_AS = {"fer_engine": "fer_engine", "fer_studio": "fer_studio", "assets": "fer_studio/assets"}


def _source_files() -> set[str]:
    out = set()
    for folder, name in INSTALLED_AS.items():
        for f in (ROOT / folder).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                out.add(f"{name}/{f.relative_to(ROOT / folder).as_posix()}")
    return out


def test_the_wheel_holds_every_package_file_and_asset(tmp_path):
    src = tmp_path / "src"  # a clean copy: an in-tree build/ folder keeps files of earlier builds
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in INSTALLED_AS:
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("fer_studio-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    expected = _source_files()
    assert "fer_engine/presets/ensembles/ensemble.json" in expected
    assert "fer_studio/assets/fer-studio.svg" in expected
    assert sorted(expected - packed) == []
