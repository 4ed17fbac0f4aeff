//! The command line as a user meets it: config errors, `check`, `clean-url`.

mod common;

use common::*;

const MINIMAL: &str = r#"
[delivery]
from = "Tidings <digest@example.org>"
to = ["me@example.org"]

[smtp]
host = "127.0.0.1"
username = "me"
password_env = "TIDINGS_CLI_TEST_SECRET"
"#;

#[test]
fn a_misspelt_key_names_file_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, MINIMAL.replace("to = [", "recipents = [")).unwrap();
    let out = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4:1: unknown key `recipents` in [delivery]",
            cfg.display()
        )),
        "{err}"
    );
    assert!(err.contains("known keys: from, to"), "{err}");
}

#[test]
fn check_reports_a_missing_secret_by_name_only_and_passes_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, MINIMAL).unwrap();
    let out = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        report.contains(
            "FAIL  SMTP password is available: environment variable `TIDINGS_CLI_TEST_SECRET`"
        ),
        "{report}"
    );

    let secret = "s3cret-value-never-printed";
    let ok = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", secret)],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("OK"));
    assert!(!stdout(&ok).contains(secret) && !stderr(&ok).contains(secret));
}

#[test]
fn check_names_a_broken_user_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tpl")).unwrap();
    std::fs::write(dir.path().join("tpl/digest.html"), "<p>\n{% if %}</p>").unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!("[digest]\ntemplates_dir = \"tpl\"\n{MINIMAL}"),
    )
    .unwrap();
    let out = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", "x")],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        report.contains("FAIL  templates render") && report.contains("tpl/digest.html"),
        "{report}"
    );
}

#[test]
fn the_config_is_found_through_tidings_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("elsewhere.toml");
    std::fs::write(&cfg, MINIMAL).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("check")
        .arg("--offline")
        .env("TIDINGS_CONFIG", &cfg)
        .env("TIDINGS_CLI_TEST_SECRET", "x")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("elsewhere.toml"));
}

#[test]
fn clean_url_from_arguments_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, format!("{MINIMAL}\n[links]\nstrip = [\"ref\"]\n")).unwrap();
    let args = tidings(
        &cfg,
        &["clean-url", "https://e.org/a?utm_source=x&id=1&ref=nl"],
        &[],
    );
    assert_eq!(
        stdout(&args),
        "https://e.org/a?id=1\n",
        "config [links] strip applies too"
    );
    let input = "https://www.zerohedge.com/geopolitical/x?utm_source=&utm_medium=email&utm_campaign=543\n\nhttps://e.org/keep?q=a+b,c\n";
    let piped = tidings_with_stdin(&cfg, &["clean-url", "--explain"], &[], Some(input));
    assert_eq!(
        stdout(&piped),
        "https://www.zerohedge.com/geopolitical/x\nhttps://e.org/keep?q=a+b,c\n"
    );
    assert!(
        stderr(&piped).contains("removed `utm_source`"),
        "{}",
        stderr(&piped)
    );
}
