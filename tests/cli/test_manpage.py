"""The man page covers every option each subcommand's --help names, and
make install puts the man page and docs/ where the man page points."""
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
COMMANDS = ["run", "regions", "ls", "show", "summary", "export", "rm", "import", "sync",
            "compare", "tune-power", "estimate", "hardware", "serve", "report"]


def options_of(wattprint, command):
    p = subprocess.run([wattprint, command, "--help"], capture_output=True, text=True)
    assert p.returncode == 0, (command, p.stderr)
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", p.stdout))


def test_every_option_in_help_is_in_the_man_page(wattprint):
    with open(os.path.join(ROOT, "man", "wattprint.1")) as f:
        man = f.read().replace("\\-", "-")
    missing = {c: sorted(o for o in options_of(wattprint, c) if o not in man) for c in COMMANDS}
    assert not any(missing.values()), {c: m for c, m in missing.items() if m}
    assert options_of(wattprint, "run") >= {"--ledger", "--wue", "--lifetime-years"}


def test_make_install_puts_the_docs_where_the_man_page_points(wattprint, tmp_path):
    """cmake --install of the build the binary comes from, into a new prefix."""
    build = os.path.dirname(wattprint)
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        import pytest
        pytest.skip("the binary is not in a CMake build directory")
    p = subprocess.run(["cmake", "--install", build, "--prefix", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    doc = tmp_path / "share" / "doc" / "wattprint"
    assert (doc / "README.md").is_file() and (doc / "docs" / "methodology.md").is_file()
    assert (tmp_path / "share" / "man" / "man1" / "wattprint.1").is_file()
    with open(os.path.join(ROOT, "man", "wattprint.1")) as f:
        assert "share/doc/wattprint" in f.read()
