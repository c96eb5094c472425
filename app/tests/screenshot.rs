//! The real window renders: `kiln gui --screenshot` writes a PNG that is not blank, for every
//! workspace and for the Explore views of a real dataset.
//! Needs a display (CI runs the suite under Xvfb); without one it says so and passes.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;

mod common;
use common::kiln_bin;

#[test]
fn the_real_window_renders_a_screenshot() {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!("skipped: no display (run under xvfb-run)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("window.png");
    let penguins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/penguins.csv");
    let views: [(&str, &[&str]); 6] = [
        ("explore", &[]),
        ("experiments", &[]),
        ("registry", &[]),
        ("deploy", &[]),
        ("explore", &["--view", "column:bill_length_mm"]),
        ("explore", &["--view", "correlations"]),
    ];
    for (panel, extra) in views {
        let mut command = Command::new(kiln_bin());
        command
            .arg("--home")
            .arg(dir.path().join("store"))
            .args(["gui", "--panel", panel, "--size", "1024x640"]);
        if !extra.is_empty() {
            command.arg(&penguins).args(extra);
        }
        let output = command
            .arg("--screenshot")
            .arg(&png)
            .output()
            .expect("run kiln");
        let view = format!("{panel} {extra:?}");
        assert!(
            output.status.success(),
            "{view}: kiln gui --screenshot failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let image = image::open(&png).expect("a PNG was written").into_rgba8();
        assert!(
            image.width() >= 1000 && image.height() >= 600,
            "{}x{}",
            image.width(),
            image.height()
        );
        let first = *image.get_pixel(0, 0);
        let differing = image.pixels().filter(|p| **p != first).count();
        assert!(
            differing > (image.width() * image.height() / 100) as usize,
            "{view}: the screenshot is (nearly) blank"
        );
        std::fs::remove_file(&png).expect("remove");
    }
}
