"""Configuration files: defaults set once, parsed strictly, and ranked
option > environment > user file > system file."""
import os

import pytest


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture
def files(measured, tmp_path):
    """measured, with a user file and a system file of its own."""
    xdg = tmp_path / "xdg"
    measured.user = str(xdg / "wattprint" / "config")
    measured.system = str(tmp_path / "etc" / "config")
    measured.cfg_env = lambda **extra: measured.env(
        XDG_CONFIG_HOME=str(xdg), WATTPRINT_SYSTEM_CONFIG=measured.system, **extra)
    return measured


def test_user_file_sets_region_pue_project_interval(files):
    write(files.user, "# my defaults\nregion = FR\npue = 1.25   # our room\n\n"
                      "project = alpha\ninterval = 0.5\n")
    p, r = files.run(["--", "true"], env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["region"] == "FRA" and r["pue"] == 1.25
    assert r["project"] == "alpha" and r["interval_s"] == 0.5
    assert "region FR from %s" % files.user in r["carbon"]["intensity_source"]
    assert any("pue 1.25 from %s" % files.user in a for a in r["assumptions"])
    assert any(a == "interval 0.5 from %s" % files.user for a in r["assumptions"])
    assert "region FR from" in p.stderr  # the summary says where the region came from


def test_home_is_written_as_a_tilde(files, tmp_path):
    home = tmp_path / "home"
    write(str(home / ".config" / "wattprint" / "config"), "region = SE\n")
    env = files.env(HOME=str(home), WATTPRINT_SYSTEM_CONFIG=files.system)
    del env["XDG_CONFIG_HOME"]
    p, r = files.run(["--", "true"], env=env)
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["region"] == "SWE"
    assert "region SE from ~/.config/wattprint/config" in r["carbon"]["intensity_source"]


def test_precedence_option_environment_user_system(files):
    write(files.system, "region = DE\nproject = sys\nprovider = gcp\n")
    write(files.user, "region = FR\n")

    def region(*args, **env):
        p, r = files.run(list(args) + ["--", "true"], env=files.cfg_env(**env))
        assert p.returncode == 0, p.stderr
        return r

    r = region()
    assert r["carbon"]["region"] == "FRA"          # user beats system
    assert r["project"] == "sys" and r["pue"] == 1.1  # what the user left, the system's
    assert "provider gcp from %s" % files.system in r["pue_source"]
    assert region(WATTPRINT_REGION="SE")["carbon"]["region"] == "SWE"    # env beats files
    assert region("--region", "NO", WATTPRINT_REGION="SE")["carbon"]["region"] == "NOR"
    assert region("--pue", "1.4")["pue"] == 1.4    # an option beats the file's provider
    assert region("--project", "cli")["project"] == "cli"


def test_option_provider_beats_file_pue(files):
    write(files.user, "pue = 1.9\n")
    p, r = files.run(["--provider", "aws", "--", "true"], env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert r["pue"] == 1.135


def test_ledger_from_the_file_below_the_environment(files, tmp_path):
    led = str(tmp_path / "from-file.db")
    write(files.user, "ledger = %s\n" % led)
    env = files.cfg_env()
    del env["WATTPRINT_LEDGER"]
    p, r = files.run(["--", "true"], env=env)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(led)
    ls = files.wp("ls", "--json", env=env)
    assert ls.returncode == 0 and r["run_id"] in ls.stdout
    # the environment's ledger wins over the file's
    p, r2 = files.run(["--", "true"], env=files.cfg_env())
    assert r2["run_id"] not in files.wp("ls", "--json", env=env).stdout


@pytest.mark.parametrize("text,line,needle", [
    ("region = FR\nregoin = DE\n", 2, "unknown key 'regoin' (did you mean region?)"),
    ("colour = blue\n", 1, "the keys are region, provider, pue"),
    ("\n\npue = 7\n", 3, "pue: '7' is not a number from 1 to 3"),
    ("region = atlantis\n", 1, "unknown region 'atlantis'"),
    ("provider = acme\n", 1, "known: aws"),
    ("interval = 0\n", 1, "interval:"),
    ("sensors = rapl,bogus\n", 1, "sensors:"),
    ("detect = maybe\n", 1, "not yes or no"),
    ("just words\n", 1, "is not 'key = value'"),
    ("region =\n", 1, "region has no value"),
])
def test_a_bad_line_is_one_error_naming_file_and_line(files, tmp_path, text, line, needle):
    write(files.user, text)
    marker = tmp_path / "ran"
    p, _ = files.run(["--", "touch", str(marker)], env=files.cfg_env(), json_out=False)
    assert p.returncode == 125
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("wattprint: %s:%d: " % (files.user, line)), lines[0]
    assert needle in lines[0]
    assert not marker.exists()
    # every command refuses, not only run
    q = files.wp("ls", env=files.cfg_env())
    assert q.returncode == 125 and "%s:%d:" % (files.user, line) in q.stderr


def test_a_bad_system_file_names_the_system_file(files):
    write(files.system, "pue = high\n")
    p, _ = files.run(["--", "true"], env=files.cfg_env(), json_out=False)
    assert p.returncode == 125
    assert "%s:1: pue:" % files.system in p.stderr


def test_unreadable_file_is_an_error(files):
    os.makedirs(files.user)  # a directory where the file should be
    p, _ = files.run(["--", "true"], env=files.cfg_env(), json_out=False)
    assert p.returncode == 125
    assert "cannot read the configuration" in p.stderr


def test_missing_files_are_no_error(files):
    p, r = files.run(["--", "true"], env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert r["settings"] == []


def test_estimate_takes_the_region_from_the_file(files):
    write(files.user, "region = FR\n")
    p = files.wp("estimate", "--params", "1e9", "--tokens", "2e10", "--hardware", "A100",
                 "--count", "8", env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert "France" in p.stdout


def test_a_fifo_configuration_is_refused_not_waited_on(files):
    os.makedirs(os.path.dirname(files.user))
    os.mkfifo(files.user)
    p = files.wp("ls", env=files.cfg_env(), timeout=20)  # no writer: a blocking open hangs
    assert p.returncode == 125
    assert "%s: cannot read the configuration: not a regular file" % files.user in p.stderr


def test_root_does_not_follow_another_users_file(files, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to own a file as another user")
    write(files.user, "region = SE\nledger = %s\n" % (tmp_path / "theirs.db"))
    os.chown(files.user, 65534, 65534)  # nobody's
    p, r = files.run(["--", "true"], env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert "wattprint: note: %s belongs to another user" % files.user in p.stderr
    assert r["carbon"]["region"] == "world" and not (tmp_path / "theirs.db").exists()


def test_root_does_not_follow_another_users_link_to_a_root_file(files, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    roots = write(str(tmp_path / "roots-own" / "config"), "region = SE\n")  # root's, valid
    os.makedirs(os.path.dirname(files.user))
    os.symlink(roots, files.user)  # their link, in their directory, to root's file
    os.lchown(files.user, 65534, 65534)
    os.chown(os.path.dirname(files.user), 65534, 65534)
    p, r = files.run(["--", "true"], env=files.cfg_env())
    assert p.returncode == 0, p.stderr
    assert "belongs to another user" in p.stderr
    assert r["carbon"]["region"] == "world"


def test_a_run_without_user_in_its_environment_is_filed_under_its_uid(files):
    env = files.cfg_env()
    env.pop("USER", None)
    env.pop("LOGNAME", None)
    p, r = files.run(["--", "true"], env=env)
    assert p.returncode == 0, p.stderr
    import pwd
    assert r["user"] == pwd.getpwuid(os.getuid()).pw_name
