//! The fuzz targets' inputs, replayed on stable Rust: every seed under `fuzz/corpus/<target>/`
//! (and whatever else a local fuzzing run left there) and every crash that became a regression
//! under `fuzz/regressions/<target>/`, through the very harness the cargo-fuzz targets run
//! (`fuzz/src/lib.rs`, compiled here as a module). Each target's test prints
//! `fuzz-replay<TAB>target<TAB>tried<TAB>passed<TAB>failed` (seen with `--nocapture`).

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The input files of `target`, seeds first, each folder in name order.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(fuzz_dir().join(folder).join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        files.sort();
        all.extend(files);
    }
    all
}

fn replay(target: &str) {
    let files = inputs(target);
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().contains("/corpus/")),
        "no seed corpus for {target} under {}",
        fuzz_dir().display()
    );
    let mut failed = Vec::new();
    for file in &files {
        let data = fs::read(file).unwrap();
        if panic::catch_unwind(AssertUnwindSafe(|| harness::run(target, &data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    println!(
        "fuzz-replay\t{target}\t{}\t{}\t{}",
        files.len(),
        files.len() - failed.len(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{target}: {} input(s) fail:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn replay_verify_token() {
    replay("verify_token");
}

#[test]
fn replay_parse_settings() {
    replay("parse_settings");
}

#[test]
fn replay_import_key() {
    replay("import_key");
}

#[test]
fn replay_request_inputs() {
    replay("request_inputs");
}

#[test]
fn replay_flow_inputs() {
    replay("flow_inputs");
}

#[test]
fn replay_sso_inputs() {
    replay("sso_inputs");
}

#[test]
fn replay_mfa_inputs() {
    replay("mfa_inputs");
}

/// The generated token seeds are what they claim: the valid ones verify, each of the others is
/// refused; and every generated seed passes its harness.
#[test]
fn generated_seeds_hold() {
    for seed in harness::verify_token_seeds() {
        let Some(verifies) = seed.verifies else {
            continue;
        };
        let token = String::from_utf8(seed.bytes.clone()).unwrap();
        assert_eq!(
            harness::token_verifies(&token),
            verifies,
            "{}: {token}",
            seed.name
        );
    }
    // the committed key seeds import, except those named for why they must not
    let dir = fuzz_dir().join("corpus/import_key");
    for file in inputs("import_key").iter().filter(|p| p.starts_with(&dir)) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("seed-") {
            continue;
        }
        // DER is not an import format: those seeds are for the stored-material facet;
        // "-refused": a key that parses but must not be accepted (a prime RSA modulus, an even
        // exponent, a bad kid)
        let refused = name.ends_with("-unsupported")
            || name.ends_with("-too-small")
            || name.ends_with("-refused")
            || name.ends_with("-der");
        assert_eq!(
            harness::key_imports(&fs::read(file).unwrap()),
            !refused,
            "{name}"
        );
    }
    for target in harness::TARGETS {
        for seed in harness::seeds(target) {
            harness::run(target, &seed.bytes);
        }
    }
}

/// Writes the generated seeds to `fuzz/corpus/<target>/seed-*`:
/// `cargo test -p auth_core --test fuzz_regressions -- --ignored write_seed_corpus`.
#[test]
#[ignore]
fn write_seed_corpus() {
    for target in harness::TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for seed in harness::seeds(target) {
            fs::write(dir.join(&seed.name), &seed.bytes).unwrap();
        }
    }
}
